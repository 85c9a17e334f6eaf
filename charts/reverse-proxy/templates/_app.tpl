{{/* The optional application container; the proxy's default site reaches it on 127.0.0.1. */}}
{{- define "reverse-proxy.appContainer" -}}
{{- $app := .Values.app -}}
- name: {{ $app.name }}
  image: {{ printf "%s:%s" $app.image.repository $app.image.tag | quote }}
  imagePullPolicy: {{ $app.image.pullPolicy }}
  {{- with $app.command }}
  command:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $app.args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $app.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- if $app.ports }}
    {{- toYaml $app.ports | nindent 4 }}
    {{- else }}
    - name: app
      containerPort: {{ $app.port }}
      protocol: TCP
    {{- end }}
  {{- range $probe := list "readinessProbe" "livenessProbe" "startupProbe" }}
  {{- with get $app $probe }}
  {{ $probe }}:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- with $app.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $app.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $app.extraVolumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
