{{- define "eventflow.fullname" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}

{{- define "eventflow.labels" -}}
app.kubernetes.io/part-of: eventflow
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "eventflow.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}

{{- define "eventflow.kafkaBrokers" -}}
{{- $name := include "eventflow.fullname" . -}}
{{- $list := list -}}
{{- range $i := until (int .Values.kafka.replicas) -}}
{{- $list = append $list (printf "%s-kafka-%d.%s-kafka-headless:9092" $name $i $name) -}}
{{- end -}}
{{- join "," $list -}}
{{- end -}}

{{- define "eventflow.registryUrl" -}}http://{{ include "eventflow.fullname" . }}-registry:8080/apis/ccompat/v7{{- end -}}

{{- define "eventflow.postgresHost" -}}
{{- if .Values.postgresql.enabled -}}{{ include "eventflow.fullname" . }}-postgresql{{- else -}}{{ required "postgresql.host is required when postgresql.enabled=false" .Values.postgresql.host }}{{- end -}}
{{- end -}}

{{- /* A password given in values, else the one already in the release's Secret, else a new one. */ -}}
{{- define "eventflow.password" -}}
{{- $given := index . 0 -}}{{- $existing := index . 1 -}}{{- $key := index . 2 -}}
{{- if $given -}}{{ $given }}{{- else if and $existing (hasKey $existing.data $key) -}}{{ index $existing.data $key | b64dec }}{{- else -}}{{ randAlphaNum 24 }}{{- end -}}
{{- end -}}

{{- define "eventflow.authSecret" -}}{{ .Values.auth.existingSecret | default (printf "%s-auth" (include "eventflow.fullname" .)) }}{{- end -}}

{{- /* Restricted pod security: what every container of the chart's own image runs with. */ -}}
{{- define "eventflow.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
  seccompProfile: { type: RuntimeDefault }
{{- end -}}
