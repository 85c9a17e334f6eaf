{{/*
Mistakes in values that `helm template` can catch before a pod ever starts, each with a message
that says what to change. Included by the ConfigMap, so it runs in sidecar mode too.
*/}}
{{- define "reverse-proxy.validate" -}}
{{- include "reverse-proxy.validate.rawSocketPath" . -}}
{{- include "reverse-proxy.validate.uniqueHosts" . -}}
{{- end -}}

{{/* The reloader and the probes talk to the socket at socketPath; config.raw must keep it there. */}}
{{- define "reverse-proxy.validate.rawSocketPath" -}}
{{- with .Values.config.raw -}}
{{- $assignment := regexFind "(?m)^[ \\t]*admin_socket_path[ \\t]*=[ \\t]*[\"'][^\"']*[\"']" . -}}
{{- if $assignment -}}
{{- $path := regexReplaceAll "^[^=]*=[ \\t]*[\"']([^\"']*)[\"']$" (trim $assignment) "${1}" -}}
{{- $expected := include "reverse-proxy.socketPath" $ -}}
{{- if ne $path $expected -}}
{{- fail (printf "config.raw sets admin_socket_path = %q, but the reloader and the readiness and liveness probes use %s (the socket emptyDir): remove admin_socket_path from config.raw or set it to %q" $path $expected $expected) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A host served by two sites is refused by the proxy; say so now, with both sites named. */}}
{{- define "reverse-proxy.validate.uniqueHosts" -}}
{{- if not .Values.config.raw -}}
{{- $owners := dict -}}
{{- $default := "" -}}
{{- range $i, $site := .Values.config.sites -}}
{{- $hosts := $site.host | default list -}}
{{- if kindIs "string" $hosts }}{{ $hosts = list $hosts }}{{ end -}}
{{- range $hosts -}}
{{- $host := lower . | trimSuffix "." -}}
{{- if hasKey $owners $host -}}
{{- fail (printf "config.sites[%d].host: host %q is already served by config.sites[%s]; each host may belong to one site" $i $host (get $owners $host)) -}}
{{- end -}}
{{- $_ := set $owners $host (toString $i) -}}
{{- end -}}
{{- if $site.default -}}
{{- if $default -}}
{{- fail (printf "config.sites[%d].default: only one site can be the default; config.sites[%s] already is" $i $default) -}}
{{- end -}}
{{- $default = toString $i -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
