"""Portuguese names for what the results files name in English (experiments and their checks).

Only words are translated: the numbers inside a check's name (its thresholds) are kept as the
experiment wrote them, in Brazilian notation, so a changed threshold shows as measured.
"""

from __future__ import annotations

import re

EXPERIMENTS = {
    "scale-workers": "1 → 2 workers do router, cada um com cota de CPU, mesma carga oferecida",
    "scale-api": "1 → 2 processos da API atrás do nginx, degraus de taxa em modelo aberto",
    "failover": "SIGKILL de um dos dois routers sob carga; reinício depois",
    "connector-isolation": "connector-instagram parado sob carga",
    "circuit-breaker": "provedor Instagram em modo de erro",
    "store-and-forward": "connector parado; mensagens para destinatário offline",
    "health-detection": "Kafka parado sob carga",
    "broker-restart": "Kafka reiniciado sob carga",
    "cassandra-restart": "Cassandra reiniciado sob carga",
}

CHECKS = {  # whole names
    "offered load is more than one worker finishes": "carga oferecida maior do que um worker processa",
    "both workers processed (split)": "os dois workers processaram (partições divididas)",
    "provider order == acceptance order": "ordem no provedor = ordem de aceitação",
    "the survivor took the partitions over (rebalance after the kill)":
        "o sobrevivente assumiu as partições (rebalance após o kill)",
    "instagram messages PENDING while stopped": "mensagens do Instagram PENDING enquanto parado",
    "no instagram message left while stopped": "nenhuma mensagem do Instagram enviada enquanto parado",
    "opened": "o circuito abriu",
    "messages PENDING while open": "mensagens PENDING enquanto aberto",
    "closed again after the fix": "fechou de novo após a correção",
    "all 202": "todas receberam 202",
    "all PENDING while offline": "todas PENDING enquanto offline",
    "all DELIVERED after restart": "todas DELIVERED após o restart",
    "healthcheck unhealthy": "healthcheck reporta unhealthy",
    "healthy again": "saudável de novo",
    "API accepts again without manual action": "a API volta a aceitar sem ação manual",
}

PHRASES = [  # parts of names that carry a threshold
    ("exact accounting", "contabilidade exata"),
    ("accepted == stored == delivered", "aceitas = armazenadas = entregues"),
    ("duplicates", "duplicatas"),
    ("abandoned", "abandonadas"),
    ("requests spread over both processes (each", "requisições repartidas entre os dois processos (cada"),
    ("recovered (delivered rate back to", "recuperou (taxa de entrega de volta a"),
    ("recovery", "recuperação"),
    ("ratio", "razão"),
    ("whatsapp not slowed by more than", "WhatsApp não ficou mais lento do que"),
    ("fails fast while open (provider calls", "falha rápido enquanto aberto (chamadas ao provedor"),
    ("of the messages held", "das mensagens retidas"),
    ("within", "em até"),
    ("POST while Kafka is down: 503, no hang", "POST com o Kafka parado: 503, sem travar"),
]


def check(name: str) -> str:
    if name in CHECKS:
        return CHECKS[name]
    text = name
    for english, portuguese in PHRASES:
        text = text.replace(english, portuguese)
    text = text.replace(">=", "≥").replace("<=", "≤").replace("==", "=")
    return re.sub(r"(\d)\.(\d)", r"\1,\2", text)
