"""Deployable roles, one module each; each exposes `app` for `faust -A chat4all_app.roles.<role> worker`."""
