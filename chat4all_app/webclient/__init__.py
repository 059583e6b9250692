"""The browser client served at /app/: plain ES modules, HTML and CSS (no build step)."""
