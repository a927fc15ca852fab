{{/* The full name of the release's objects. */}}
{{- define "cloudaeye-agent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the agent pods. */}}
{{- define "cloudaeye-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "cloudaeye-agent.labels" -}}
{{ include "cloudaeye-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount's name. */}}
{{- define "cloudaeye-agent.serviceAccountName" -}}
{{- default (include "cloudaeye-agent.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret holding the token. */}}
{{- define "cloudaeye-agent.secretName" -}}
{{- default (include "cloudaeye-agent.fullname" .) .Values.cloudaeye.existingSecret -}}
{{- end -}}
