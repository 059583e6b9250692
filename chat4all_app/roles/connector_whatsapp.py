"""connector-whatsapp (web :8083).

    faust -A chat4all_app.roles.connector_whatsapp worker --web-port 8083 --datadir ...
"""

from chat4all_app.roles.connector import build, inspect_command
from chat4all_app.settings import load

app, connector = build("whatsapp", load("connector-whatsapp", "webhook_secret_whatsapp"))
inspect_tables = inspect_command(app, "whatsapp")
