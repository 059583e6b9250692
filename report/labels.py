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
    "broker-kill": "cluster: SIGKILL do broker que lidera mais partições",
    "cassandra-node-kill": "cluster: SIGKILL de um nó Cassandra",
    "rolling-restart": "cluster: todos os nós reiniciados um a um",
    "min-isr": "cluster: dois de três brokers mortos",
    "alerts": "cada classe de alerta provocada sob carga: dispara e se resolve",
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
    "the pipeline kept up before the fault": "o pipeline acompanhava a carga antes da falha",
    "the pipeline kept up before the roll": "o pipeline acompanhava a carga antes do reinício",
    "at most 1 % of requests 5xx": "no máximo 1 % das requisições com 5xx",
    "at most 1 % of requests 5xx over the roll": "no máximo 1 % das requisições com 5xx em todo o reinício",
    "delivery stall at most 5 s": "entregas paradas por no máximo 5 s",
    "every partition led again after the kill": "todas as partições com líder de novo após o kill",
    "the restarted broker back in every ISR": "o broker reiniciado de volta em todos os ISR",
    "no 5xx": "nenhum 5xx",
    "the node rejoined (all UN)": "o nó voltou ao anel (todos UN)",
    "hints replayed to it": "hints reaplicados a ele",
    "after nodetool repair its data is in sync with the others":
        "após o nodetool repair, seus dados estão em sincronia com os outros",
    "every node restarted and the cluster whole after each":
        "cada nó reiniciado e o cluster completo após cada um",
    "the roll ended while the load still ran": "o reinício terminou com a carga ainda ativa",
    "nothing accepted while two brokers are down": "nada aceito com dois brokers parados",
    "/health 503 without a quorum": "/health 503 sem quórum",
    "accepts resume once a second broker is back": "aceitação volta quando um segundo broker retorna",
    "the cluster whole again": "o cluster completo de novo",
    "the survivor committed every partition it took over, before the restart":
        "commit de cada partição assumida antes do reinício",
    "lag back to its pre-kill level (1.5 x median) before the restart":
        "lag de volta ao nível pré-kill antes do reinício",
    "no alert on a healthy stack under load (first 90 s)":
        "nenhum alerta com o sistema saudável sob carga (primeiros 90 s)",
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
    (" fired and resolved", " disparou e se resolveu"),
    (": the receiver was notified of both", ": o receptor foi notificado dos dois"),
]


def check(name: str) -> str:
    if name in CHECKS:
        return CHECKS[name]
    text = name
    for english, portuguese in PHRASES:
        text = text.replace(english, portuguese)
    text = text.replace(">=", "≥").replace("<=", "≤").replace("==", "=")
    return re.sub(r"(\d)\.(\d)", r"\1,\2", text)

# Each k6 case's configuration (loadtests/<case>.js defaults), in Portuguese.
LOADTESTS = {
    "01-warmup": "5 VUs, 2 min, espera de 6 s, 100 B",
    "02-baseline": "20 VUs, 5 min, espera de 2,2 s, 200 B",
    "03-spike": "5 → 50 VUs em 30 s, 1 min no pico, volta a 5",
    "04-file-upload": "10 VUs, 3 min, arquivos de 100 KB a 1 MB, espera de 8 s",
    "05-stress": "10 → 100 VUs, +10 por minuto, espera de 1 s",
    "06-soak": "30 VUs, 15 min, 70 % POST e 30 % GET, espera de 6 s",
    "07-capacity": "taxa de chegada 100 → 3.000 req/s em 4 min, sem espera",
    "08-websocket": "500 pessoas em WebSocket, 200 msg/s por 2 min",
}

# Why a criterion can fail here and what meeting it would take: printed only for a failed one.
SHORTFALL = {
    "throughput": "Vazão: o caso 02 oferece ~540 msg/min; abaixo de 500 a API ou o k6 não acompanharam a "
                  "taxa, o que a Tabela de carga mostra pelos erros e pela latência.",
    "p95": "P95 sem contenção: a latência da API sobe quando o router e o Cassandra disputam a CPU; "
           "separar a API dos workers (outra máquina ou cota) é o que a levaria abaixo da meta.",
    "spike_p99": "P99 no pico: com 50 VUs a API, o Kafka e o k6 disputam os 2 núcleos; a cauda vem dessa "
                 "fila de CPU. Resolver pede mais núcleos ou a API em outra máquina, não mudança de código.",
    "error_rate": "Erros: o caso com mais erros passou de 1 %; a causa está no seu resumo "
                  "(`summary.md`, códigos de status).",
    "files": "Arquivos: o upload de teste não passou ou a soma SHA-256 divergiu.",
    "workers": "Escala dos workers: a réplica em standby e o que é compartilhado (Seção 6.3) comem o "
               "ganho; sem standby o ganho sobe, ao custo de um failover mais lento.",
    "api": "Escala da API: o nginx e o k6 dividem a CPU que sobra; em máquinas separadas a razão "
           "se aproximaria de 2\N{MULTIPLICATION SIGN}.",
    "lag": "Lag < 100: o lag de consumo é o highwater menos o offset confirmado, e os workers confirmam a "
           "cada lote e a cada intervalo de commit; a ~9 msg/s por 4 tópicos o valor fica dessa ordem. "
           "Confirmar com mais frequência baixaria o lag medido, ao custo de mais escritas no Kafka.",
    "cpu": "CPU < 80 %: o processo mais ocupado passou de 80 % de um núcleo em média; com 2 núcleos "
           "para tudo, só outra máquina ou uma cota maior o atenderia.",
    "distribution": "Distribuição: uma das instâncias processou menos de 30 % do trabalho.",
    "recovery": "Recuperação: a detecção custa o timeout de sessão e o resto é rebalance e drenagem.",
    "no_loss": "Perda no failover: a contabilidade por message_id encontrou mensagens aceitas e não "
               "armazenadas; o summary.md do experimento as lista.",
    "breaker": "Circuit breaker: não abriu, ou abriu fora de 3 a 5 falhas seguidas.",
    "store_forward": "Store-and-forward: nem todas as mensagens PENDING foram entregues após a volta.",
    "health": "Health checks: o /health não respondeu 503 em menos de 60 s.",
    "prometheus": "Prometheus: o painel de serviços não mostrou a coleta da API e do router.",
    "dashboards": "Dashboards Grafana: os painéis são gerados como JSON do Grafana e provisionados no "
                  "Compose, mas a imagem do Grafana não se obtém nesta máquina; aqui rodam, do mesmo código, "
                  "como consoles do Prometheus, capturados ao vivo. Atender pede rodar o Compose onde o "
                  "Docker Hub responde e capturar o Grafana (results/dashboards/grafana/).",
    "logs": "Logs: há linhas sem algum dos campos estruturados (results/logs/latest.json as conta).",
    "basic_metrics": "Métricas básicas: um dos painéis de vazão, P95 ou erros ficou sem dados.",
    "screenshots": "Capturas: falta a captura durante a carga ou durante o failover.",
}
