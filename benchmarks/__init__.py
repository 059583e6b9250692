"""`make bench`: the reference ceiling, the API's ingest capacity and the end-to-end pipeline,
measured side by side in one run on the running local stack (see __main__.py)."""
