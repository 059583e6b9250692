"""One module per deployable role; each exposes `app` for `faust -A chat4all_app.services.<role> worker`."""
