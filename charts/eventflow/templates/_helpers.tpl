{{- define "eventflow.fullname" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}

{{- define "eventflow.labels" -}}
app.kubernetes.io/part-of: eventflow
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- /* The app image; with image.digest it is pinned by digest (repository:tag@sha256:...): what runs cannot change under the tag. */ -}}
{{- define "eventflow.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{ with .Values.image.digest }}@{{ . }}{{ end }}{{- end -}}

{{- define "eventflow.kafkaBrokers" -}}
{{- $name := include "eventflow.fullname" . -}}
{{- $list := list -}}
{{- range $i := until (int .Values.kafka.replicas) -}}
{{- $list = append $list (printf "%s-kafka-%d.%s-kafka-headless:9092" $name $i $name) -}}
{{- end -}}
{{- join "," $list -}}
{{- end -}}

{{- /* The registry's read-only instance: what the services read schemas from. */ -}}
{{- define "eventflow.registryUrl" -}}http://{{ include "eventflow.fullname" . }}-registry-reader:8080/apis/ccompat/v7{{- end -}}

{{- /* The writable instance: only the provisioning Job registers schemas and sets compatibility. */ -}}
{{- define "eventflow.registryWriteUrl" -}}http://{{ include "eventflow.fullname" . }}-registry:8080/apis/ccompat/v7{{- end -}}

{{- /* Kafka's SASL principals (libs/events access.ts kafkaPrincipals, without the local stack's test). */ -}}
{{- define "eventflow.kafkaPrincipals" -}}admin provision ops user-service billing-service order-service notification-service{{- end -}}

{{- /* A SCRAM client's JAAS line for the principal in $USERNAME with the password in $PASSWORD (expanded by the shell that writes it). */ -}}
{{- define "eventflow.kafkaClientProperties" -}}
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";\n' "$KAFKA_SASL_USERNAME" "$KAFKA_SASL_PASSWORD"
{{- end -}}

{{- define "eventflow.postgresHost" -}}
{{- if .Values.postgresql.enabled -}}{{ include "eventflow.fullname" . }}-postgresql{{- else -}}{{ required "postgresql.host is required when postgresql.enabled=false" .Values.postgresql.host }}{{- end -}}
{{- end -}}

{{- /* A password given in values, else the one already in the release's Secret, else a new one. */ -}}
{{- define "eventflow.password" -}}
{{- $given := index . 0 -}}{{- $existing := index . 1 -}}{{- $key := index . 2 -}}
{{- if $given -}}{{ $given }}{{- else if and $existing (hasKey $existing.data $key) -}}{{ index $existing.data $key | b64dec }}{{- else -}}{{ randAlphaNum 24 }}{{- end -}}
{{- end -}}

{{- define "eventflow.authSecret" -}}{{ .Values.auth.existingSecret | default (printf "%s-auth" (include "eventflow.fullname" .)) }}{{- end -}}

{{- /*
A command run in an init container until it succeeds: PostgreSQL, Kafka and the registry start
at the same time as the services, so the first attempts may find them not ready yet. A few
seconds apart instead of Kubernetes' back-off, which grows to minutes. Args: list root command.
*/ -}}
{{- define "eventflow.retry" -}}
{{- $root := index . 0 -}}{{- $command := index . 1 -}}
- sh
- -c
- >-
  i=1; until {{ $command }}; do
  if [ "$i" -ge {{ $root.Values.startup.attempts }} ]; then echo "gave up after $i attempts: {{ $command }}" >&2; exit 1; fi;
  echo "attempt $i failed, retrying in {{ $root.Values.startup.intervalSeconds }} s" >&2; i=$((i + 1)); sleep {{ $root.Values.startup.intervalSeconds }};
  done
{{- end -}}

{{- /* Restricted pod security: what every container of the chart's own image runs with. */ -}}
{{- define "eventflow.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
  seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{- /* The settings of one service that are not secret: its ConfigMap. Args: dict root component svc. */ -}}
{{- define "eventflow.serviceConfig" -}}
{{- $root := .root -}}{{- $component := .component -}}{{- $svc := .svc -}}
HOST: "0.0.0.0"
PORT: {{ $svc.port | quote }}
LOG_LEVEL: {{ $root.Values.logLevel | quote }}
KAFKA_BROKERS: {{ include "eventflow.kafkaBrokers" $root | quote }}
# Its own principal; the password comes from the <release>-kafka Secret.
KAFKA_SASL_MECHANISM: scram-sha-512
KAFKA_SASL_USERNAME: {{ printf "%s-service" $component | quote }}
SCHEMA_REGISTRY_URL: {{ include "eventflow.registryUrl" $root | quote }}
JWT_ISSUER: {{ $root.Values.auth.issuer | quote }}
JWT_AUDIENCE: {{ $root.Values.auth.audience | quote }}
HTTP_BODY_LIMIT_BYTES: {{ $root.Values.http.bodyLimitBytes | quote }}
SWAGGER_UI_ENABLED: {{ $root.Values.http.swaggerUi | quote }}
TRUSTED_PROXIES: {{ $root.Values.http.trustedProxies | quote }}
RATE_LIMIT_USER_PER_MINUTE: {{ $root.Values.rateLimits.userPerMinute | quote }}
SHUTDOWN_TIMEOUT_MS: {{ $root.Values.shutdownTimeoutMs | quote }}
{{- if ne $component "notification" }}{{/* notification publishes no events: no outbox */}}
OUTBOX_POLL_INTERVAL_MS: {{ $root.Values.outbox.pollIntervalMs | quote }}
OUTBOX_BATCH_SIZE: {{ $root.Values.outbox.batchSize | quote }}
{{- end }}
{{- if ne $component "user" }}{{/* user-service consumes no events */}}
CONSUMER_BATCH_SIZE: {{ $root.Values.consumer.batchSize | quote }}
{{- end }}
{{- if eq $component "user" }}
ACCESS_TOKEN_TTL_SECONDS: {{ $svc.accessTokenTtlSeconds | quote }}
LOGIN_ATTEMPTS_PER_IP: {{ $root.Values.rateLimits.loginAttemptsPerIp | quote }}
LOGIN_FAILURES_PER_EMAIL: {{ $root.Values.rateLimits.loginFailuresPerEmail | quote }}
REGISTRATIONS_PER_IP: {{ $root.Values.rateLimits.registrationsPerIp | quote }}
ARGON2_MAX_CONCURRENT: {{ $root.Values.passwordHashing.maxConcurrent | quote }}
ARGON2_MAX_QUEUE: {{ $root.Values.passwordHashing.maxQueue | quote }}
{{- end }}
{{- if eq $component "billing" }}
ACCOUNT_WAIT_MS: {{ $svc.accountWaitMs | quote }}
{{- end }}
{{- if eq $component "order" }}
ADMISSION_MAX_BACKLOG_MS: {{ $svc.admissionMaxBacklogMs | quote }}
{{- end }}
{{- if eq $component "notification" }}
RECIPIENT_WAIT_MS: {{ $svc.recipientWaitMs | quote }}
{{- end }}
{{- if has $component (list "billing" "order" "notification") }}
PREFER_WAIT_MAX_SECONDS: {{ $root.Values.http.preferWaitMaxSeconds | quote }}
{{- end }}
{{- if $root.Values.tracing.enabled }}
OTEL_TRACES_EXPORTER: otlp
OTEL_EXPORTER_OTLP_ENDPOINT: {{ $root.Values.tracing.endpoint | quote }}
{{- end }}
{{- end -}}
