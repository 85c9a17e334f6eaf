{{/*
The proxy and its reloader as pod fragments. This chart's Deployment uses them, and so can any
other chart that wants the proxy in its own pods (see README "Adding the proxy to your own pods"):

  initContainers:
    {{- include "reverse-proxy.sidecar.initContainers" $rp | nindent 4 }}
  containers:
    {{- include "reverse-proxy.sidecar.containers" $rp | nindent 4 }}
  volumes:
    {{- include "reverse-proxy.sidecar.volumes" $rp | nindent 4 }}

where $rp is (dict "Values" (index .Values "reverse-proxy") "Release" .Release).
The reloader goes to initContainers when `reloader.nativeSidecar` is true, to containers otherwise.
*/}}

{{- define "reverse-proxy.sidecar.proxyContainer" -}}
- name: proxy
  image: {{ include "reverse-proxy.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["serve", "--config", "{{ include "reverse-proxy.configDir" . }}/{{ include "reverse-proxy.configFile" . }}"]
  ports:
    - name: http
      containerPort: {{ .Values.config.port }}
      protocol: TCP
    {{- if .Values.tls.secretName }}
    - name: https
      containerPort: {{ .Values.tls.port }}
      protocol: TCP
    {{- end }}
    {{- if .Values.metrics.enabled }}
    - name: metrics
      containerPort: {{ .Values.metrics.port }}
      protocol: TCP
    {{- end }}
  {{- with .Values.proxy.extraEnv }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  readinessProbe:
    # Exit status 0 only while the proxy has live workers and is not draining.
    exec:
      command: ["reverse-proxy", "ctl", "status"]
    periodSeconds: {{ .Values.proxy.readinessProbe.periodSeconds }}
    timeoutSeconds: {{ .Values.proxy.readinessProbe.timeoutSeconds }}
    failureThreshold: {{ .Values.proxy.readinessProbe.failureThreshold }}
  {{- if .Values.proxy.startupProbe.enabled }}
  startupProbe:
    # Liveness waits until the master has answered once.
    exec:
      command: ["reverse-proxy", "ctl", "show", "proc"]
    periodSeconds: {{ .Values.proxy.startupProbe.periodSeconds }}
    timeoutSeconds: {{ .Values.proxy.startupProbe.timeoutSeconds }}
    failureThreshold: {{ .Values.proxy.startupProbe.failureThreshold }}
  {{- end }}
  {{- if .Values.proxy.livenessProbe.enabled }}
  livenessProbe:
    # `show proc` is answered by the master even while it drains, unlike `status`: a long drain
    # makes the pod unready but never gets the container killed early.
    exec:
      command: ["reverse-proxy", "ctl", "show", "proc"]
    initialDelaySeconds: {{ .Values.proxy.livenessProbe.initialDelaySeconds }}
    periodSeconds: {{ .Values.proxy.livenessProbe.periodSeconds }}
    timeoutSeconds: {{ .Values.proxy.livenessProbe.timeoutSeconds }}
    failureThreshold: {{ .Values.proxy.livenessProbe.failureThreshold }}
  {{- end }}
  {{- if .Values.proxy.preStopSleepSeconds }}
  lifecycle:
    # Keep serving while endpoints and load balancers forget this pod; SIGTERM (drain) comes after.
    preStop:
      exec:
        command: ["sleep", "{{ .Values.proxy.preStopSleepSeconds }}"]
  {{- end }}
  {{- with .Values.proxy.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "reverse-proxy.sidecar.volumeMounts" . | nindent 4 }}
    {{- with .Values.proxy.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{- define "reverse-proxy.sidecar.reloaderContainer" -}}
- name: reloader
  image: {{ include "reverse-proxy.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if .Values.reloader.nativeSidecar }}
  restartPolicy: Always
  {{- end }}
  args:
    - reloader
    - --watch={{ include "reverse-proxy.configDir" . }}
    {{- if .Values.tls.secretName }}
    - --watch={{ include "reverse-proxy.tlsDir" . }}
    {{- end }}
    - --file={{ include "reverse-proxy.configFile" . }}
    - --socket={{ include "reverse-proxy.socketPath" . }}
    - --listen=0.0.0.0:{{ .Values.reloader.healthPort }}
  env:
    # The reloader reports reloads as Events on its own pod.
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: POD_UID
      valueFrom:
        fieldRef:
          fieldPath: metadata.uid
    {{- with .Values.reloader.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: reloader-health
      containerPort: {{ .Values.reloader.healthPort }}
      protocol: TCP
  livenessProbe:
    # /healthz fails when the watcher has stopped, so a silently dead watcher gets restarted.
    httpGet:
      path: /healthz
      port: reloader-health
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  {{- with .Values.reloader.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "reverse-proxy.sidecar.volumeMounts" . | nindent 4 }}
    {{- with .Values.reloader.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The same mounts in both containers: the socket directory, the config directory and the TLS Secret (the reloader hashes the certificate too). */}}
{{- define "reverse-proxy.sidecar.volumeMounts" -}}
- name: reverse-proxy-socket
  mountPath: {{ include "reverse-proxy.socketDir" . }}
- name: reverse-proxy-config
  mountPath: {{ include "reverse-proxy.configDir" . }}
  readOnly: true
{{- if .Values.tls.secretName }}
- name: reverse-proxy-tls
  mountPath: {{ include "reverse-proxy.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "reverse-proxy.sidecar.initContainers" -}}
{{- if .Values.reloader.nativeSidecar -}}
{{- /* An older API server drops restartPolicy, and the pod then waits forever on an init container that never exits. */ -}}
{{- with .Capabilities -}}
{{- if semverCompare "<1.29.0-0" .KubeVersion.Version -}}
{{- fail (printf "reloader.nativeSidecar=true needs Kubernetes 1.29 or later (native sidecar containers); this cluster is %s: set reloader.nativeSidecar=false" .KubeVersion.Version) -}}
{{- end -}}
{{- end -}}
{{- include "reverse-proxy.sidecar.reloaderContainer" . -}}
{{- end -}}
{{- end -}}

{{- define "reverse-proxy.sidecar.containers" -}}
{{- include "reverse-proxy.sidecar.proxyContainer" . }}
{{- if not .Values.reloader.nativeSidecar }}
{{ include "reverse-proxy.sidecar.reloaderContainer" . }}
{{- end -}}
{{- end -}}

{{- define "reverse-proxy.sidecar.volumes" -}}
- name: reverse-proxy-socket
  emptyDir: {}
- name: reverse-proxy-config
  configMap:
    name: {{ include "reverse-proxy.fullname" . }}
{{- if .Values.tls.secretName }}
- name: reverse-proxy-tls
  secret:
    secretName: {{ .Values.tls.secretName }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}
