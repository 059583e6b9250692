"""connector-instagram (web :8084).

    faust -A chat4all_app.roles.connector_instagram worker --web-port 8084 --datadir ...
"""

from chat4all_app.roles.connector import build, inspect_command
from chat4all_app.settings import load

app, connector = build("instagram", load("connector-instagram", "webhook_secret_instagram"))
inspect_tables = inspect_command(app, "instagram")
