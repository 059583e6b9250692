"""connector-whatsapp (web :8083).

    faust -A chat4all_app.services.connector_whatsapp worker --web-port 8083 --datadir ...
"""

from chat4all_app.services.connector import build, inspect_command
from chat4all_app.settings import Settings

app, connector = build("whatsapp", Settings.from_env())
inspect_tables = inspect_command(app, "whatsapp")
