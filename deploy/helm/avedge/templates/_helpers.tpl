{{/* The chart's name, or nameOverride. */}}
{{- define "avedge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects: fullnameOverride, the release name if it holds the chart's name, or release-chart. */}}
{{- define "avedge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the release's pods. */}}
{{- define "avedge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "avedge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of every object. */}}
{{- define "avedge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "avedge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The service account's name. */}}
{{- define "avedge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "avedge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The name of the Secret of one entry of .Values.secrets: call with (list . "pool" "pool"), the entry's key and the name's suffix. */}}
{{- define "avedge.secretName" -}}
{{- $root := index . 0 }}
{{- $s := index $root.Values.secrets (index . 1) }}
{{- default (printf "%s-%s" (include "avedge.fullname" $root) (index . 2)) $s.existingSecret }}
{{- end }}

{{/* The name of the revocations ConfigMap. */}}
{{- define "avedge.revocationsName" -}}
{{- default (printf "%s-revocations" (include "avedge.fullname" .)) .Values.revocations.existingConfigMap }}
{{- end }}

{{/* The host of the admin listener: the node's loopback, or its address (${NODE_IP}) for a PodMonitor. */}}
{{- define "avedge.adminHost" -}}
{{- if eq .Values.config.admin.bind "loopback" }}127.0.0.1
{{- else if eq .Values.config.admin.bind "node" }}${NODE_IP}
{{- else }}{{ fail (printf "config.admin.bind is %q: loopback or node" .Values.config.admin.bind) }}
{{- end }}
{{- end }}

{{/* The path of the configuration in the container. */}}
{{- define "avedge.configPath" -}}/etc/avedge/config/avedge.yaml{{- end }}
