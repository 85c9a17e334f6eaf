{{/*
Names and labels. They read only .Values and .Release (never .Chart), so another chart can call
the `reverse-proxy.sidecar.*` templates with (dict "Values" <these values> "Release" .Release)
and still get the names this chart's own resources have.
*/}}

{{- define "reverse-proxy.name" -}}
{{- default "reverse-proxy" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "reverse-proxy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "reverse-proxy.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "reverse-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reverse-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "reverse-proxy.labels" -}}
{{ include "reverse-proxy.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Chart }}
helm.sh/chart: {{ printf "%s-%s" .Name .Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .AppVersion | quote }}
{{- end }}
{{- end -}}

{{- define "reverse-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reverse-proxy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "reverse-proxy.image" -}}
{{- $tag := .Values.image.tag -}}
{{- if not $tag -}}{{- with .Chart -}}{{- $tag = .AppVersion -}}{{- end -}}{{- end -}}
{{- printf "%s:%s" .Values.image.repository (default "latest" $tag) -}}
{{- end -}}

{{/* Grace period: the preStop pause, then the drain, then a margin for the processes to exit. */}}
{{- define "reverse-proxy.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- add .Values.proxy.preStopSleepSeconds (ceil .Values.config.shutdownTimeoutSecs) 10 -}}
{{- else -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}
