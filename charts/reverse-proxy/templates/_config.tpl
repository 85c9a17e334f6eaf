{{/*
config.toml for the ConfigMap: `config.raw` verbatim, or a document built from `config.*`.
Built as a dict and encoded by toToml, so quoting and escaping are the encoder's job. Helm reads
every number in values as a float; whole ones are turned back into integers so the file reads
`port = 8080`, not `port = 8080.0`.
*/}}
{{- define "reverse-proxy.config.toml" -}}
{{- if .Values.config.raw -}}
{{- .Values.config.raw -}}
{{- else -}}
{{- $c := .Values.config -}}
{{- $sites := list -}}
{{- range $c.sites -}}
{{- $site := deepCopy . -}}
{{- include "reverse-proxy.config.wholeNumbers" (list $site "connect_timeout_secs" "request_timeout_secs" "body_limit_bytes") -}}
{{- with $site.rate_limit -}}{{- include "reverse-proxy.config.wholeNumbers" (list . "rps" "burst") -}}{{- end -}}
{{- $sites = append $sites $site -}}
{{- end -}}
{{- if and (not $sites) .Values.app.enabled -}}
{{- $sites = list (dict "default" true "upstream" (printf "http://127.0.0.1:%d" (int .Values.app.port))) -}}
{{- end -}}
{{- $doc := dict
  "admin_socket_path" (include "reverse-proxy.socketPath" .)
  "admin_socket_mode" "0660"
  "workers" $c.workers
  "shutdown_timeout_secs" $c.shutdownTimeoutSecs
  "listeners" (list (dict "address" "0.0.0.0" "port" $c.port))
  "logging" (dict "level" $c.logging.level "access_log" $c.logging.accessLog)
  "sites" $sites
-}}
{{- if .Values.tls.secretName -}}
{{- if eq (int .Values.tls.port) (int $c.port) }}{{ fail (printf "tls.port %d is config.port too: the https listener needs a port of its own" (int .Values.tls.port)) }}{{ end -}}
{{- $_ := set $doc "listeners" (append $doc.listeners (dict "address" "0.0.0.0" "port" (int64 .Values.tls.port) "tls" true)) -}}
{{- $dir := include "reverse-proxy.tlsDir" . -}}
{{- $_ := set $doc "certificates" (list (dict "cert" (printf "%s/tls.crt" $dir) "key" (printf "%s/tls.key" $dir) "default" true)) -}}
{{- end -}}
{{- if .Values.metrics.enabled -}}
{{- $_ := set $doc "metrics" (dict "address" "0.0.0.0" "port" (int64 .Values.metrics.port)) -}}
{{- end -}}
{{- include "reverse-proxy.config.wholeNumbers" (list $doc "workers" "shutdown_timeout_secs") -}}
{{- include "reverse-proxy.config.wholeNumbers" (list (first $doc.listeners) "port") -}}
# Rendered by the reverse-proxy Helm chart from its `config` values: change those, not this file.
{{ toToml $doc }}
{{- end -}}
{{- end -}}

{{/*
(list $dict "key" ...): rewrites each listed number that has no fraction as an integer in place.
*/}}
{{- define "reverse-proxy.config.wholeNumbers" -}}
{{- $d := first . -}}
{{- range rest . -}}
{{- $v := get $d . -}}
{{- if and (kindIs "float64" $v) (eq $v (float64 (int64 $v))) -}}{{- $_ := set $d . (int64 $v) -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* Where the proxy and the reloader meet: an emptyDir mounted at the same path in both. */}}
{{- define "reverse-proxy.socketDir" -}}/run/reverse-proxy{{- end -}}
{{- define "reverse-proxy.socketPath" -}}{{ include "reverse-proxy.socketDir" . }}/admin.sock{{- end -}}
{{/* The ConfigMap is mounted as a directory: kubelet only updates directory mounts, never subPath ones. */}}
{{- define "reverse-proxy.configDir" -}}/etc/reverse-proxy{{- end -}}
{{- define "reverse-proxy.configFile" -}}config.toml{{- end -}}
{{/* The TLS Secret, also a directory mount, so its `..data` swap on renewal reaches the pod. */}}
{{- define "reverse-proxy.tlsDir" -}}/etc/reverse-proxy-tls{{- end -}}
