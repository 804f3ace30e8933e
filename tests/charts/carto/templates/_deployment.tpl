{{/* vim: set filetype=mustache: */}}

{{/* Labels of a component object (metadata.labels). */}}
{{- define "carto.component.labels" -}}
{{- include "common.labels.standard" .context }}
app.kubernetes.io/component: {{ .name }}
{{- if .context.Values.commonLabels }}
{{ include "common.tplvalues.render" (dict "value" .context.Values.commonLabels "context" .context) }}
{{- end }}
{{- end -}}

{{/* metadata.annotations of a component object (commonAnnotations + extra). */}}
{{- define "carto.component.annotations" -}}
{{- $ann := merge (dict) (.extra | default (dict)) (.context.Values.commonAnnotations | default (dict)) -}}
{{- if $ann }}
annotations: {{- include "common.tplvalues.render" (dict "value" $ann "context" .context) | nindent 2 }}
{{- end }}
{{- end -}}

{{/* ServiceAccount used by a component's pods. */}}
{{- define "carto.component.serviceAccountName" -}}
{{- $cv := index .context.Values .key -}}
{{- if hasKey $cv "serviceAccount" -}}
{{- if $cv.serviceAccount.create -}}
{{- default (printf "%s-%s" (include "carto.fullname" .context) .name) $cv.serviceAccount.name -}}
{{- else -}}
{{- default "default" $cv.serviceAccount.name -}}
{{- end -}}
{{- else -}}
{{- include "carto.commonSA.serviceAccountName" .context -}}
{{- end -}}
{{- end -}}

{{/* Probe block. Usage: include "carto.probe" (dict "probe" $cv.livenessProbe "custom" $cv.customLivenessProbe "port" "http" "path" "/health" "context" $) */}}
{{- define "carto.probe" -}}
{{- if .probe.enabled -}}
{{- include "common.tplvalues.render" (dict "value" (omit .probe "enabled") "context" .context) }}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{- else if .custom -}}
{{- include "common.tplvalues.render" (dict "value" .custom "context" .context) }}
{{- end -}}
{{- end -}}

{{/*
PostgreSQL / Redis environment of a component (passwords always come from a
Secret: existingSecret if set, otherwise the Secret created by the chart).
*/}}
{{- define "carto.component.dbEnv" -}}
{{- $ := .context -}}
{{- if .meta.db }}
- name: WORKSPACE_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "carto.postgresql.secretName" $ | quote }}
      key: {{ include "carto.postgresql.secret.key" $ | quote }}
{{- end }}
{{- if .meta.redis }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "carto.redis.secretName" $ | quote }}
      key: {{ include "carto.redis.existingsecret.key" $ | quote }}
{{- end }}
{{- end -}}

{{/* envFrom of a component (its ConfigMap and Secret, plus extra ones). */}}
{{- define "carto.component.envFrom" -}}
{{- $ := .context -}}
{{- $cv := index $.Values .key -}}
{{- $fullname := printf "%s-%s" (include "carto.fullname" $) .name }}
- configMapRef:
    name: {{ default $fullname $cv.existingConfigMap }}
{{- if $cv.extraEnvVarsCM }}
- configMapRef:
    name: {{ include "common.tplvalues.render" (dict "value" $cv.extraEnvVarsCM "context" $) }}
{{- end }}
{{- if not .meta.noSecret }}
- secretRef:
    name: {{ default $fullname $cv.existingSecret }}
{{- end }}
{{- if $cv.extraEnvVarsSecret }}
- secretRef:
    name: {{ include "common.tplvalues.render" (dict "value" $cv.extraEnvVarsSecret "context" $) }}
{{- end }}
{{- end -}}

{{/* Volume mounts shared by the main container and the migrations init container. */}}
{{- define "carto.component.volumeMounts" -}}
{{- $ := .context -}}
{{- if and .meta.google (not $.Values.commonBackendServiceAccount.enableGCPWorkloadIdentity) }}
- name: gcp-default-service-account-key
  mountPath: {{ include "carto.google.secretMountDir" $ }}
  readOnly: true
{{- end }}
{{- if and .meta.gcsKey (include "carto.googleCloudStorageServiceAccountKey.used" $) }}
- name: gcp-buckets-service-account-key
  mountPath: {{ include "carto.googleCloudStorageServiceAccountKey.secretMountDir" $ }}
  readOnly: true
{{- end }}
{{- if and .meta.db (include "carto.postgresql.caUsed" $) }}
- name: postgresql-ssl-ca
  mountPath: {{ include "carto.postgresql.configMapMountDir" $ }}
  readOnly: true
{{- end }}
{{- if and .meta.redis (include "carto.redis.caUsed" $) }}
- name: redis-tls-ca
  mountPath: {{ include "carto.redis.configMapMountDir" $ }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "carto.component.volumes" -}}
{{- $ := .context -}}
{{- if and .meta.google (not $.Values.commonBackendServiceAccount.enableGCPWorkloadIdentity) }}
- name: gcp-default-service-account-key
  secret:
    secretName: {{ include "carto.google.secretName" $ }}
    items:
      - key: {{ include "carto.google.secretKey" $ }}
        path: key.json
{{- end }}
{{- if and .meta.gcsKey (include "carto.googleCloudStorageServiceAccountKey.used" $) }}
- name: gcp-buckets-service-account-key
  secret:
    secretName: {{ include "carto.googleCloudStorageServiceAccountKey.secretName" $ }}
    items:
      - key: {{ include "carto.googleCloudStorageServiceAccountKey.secretKey" $ }}
        path: key.json
{{- end }}
{{- if and .meta.db (include "carto.postgresql.caUsed" $) }}
- name: postgresql-ssl-ca
  configMap:
    name: {{ include "carto.postgresql.configMapName" $ }}
{{- end }}
{{- if and .meta.redis (include "carto.redis.caUsed" $) }}
- name: redis-tls-ca
  configMap:
    name: {{ include "carto.redis.configMapName" $ }}
{{- end }}
{{- end -}}

{{/*
Deployment of one CARTO component.
Usage: include "carto.component.deployment" (dict "key" "workspaceApi" "meta" $meta "context" $)
*/}}
{{- define "carto.component.deployment" -}}
{{- $ := .context -}}
{{- $key := .key -}}
{{- $meta := .meta -}}
{{- $name := $meta.name -}}
{{- $cv := index $.Values $key -}}
{{- $fullname := printf "%s-%s" (include "carto.fullname" $) $name -}}
{{- $autoscaling := dig "autoscaling" "enabled" false $cv -}}
apiVersion: {{ include "common.capabilities.deployment.apiVersion" $ }}
kind: Deployment
metadata:
  name: {{ $fullname }}
  namespace: {{ $.Release.Namespace | quote }}
  labels: {{- include "carto.component.labels" (dict "name" $name "context" $) | nindent 4 }}
  {{- include "carto.component.annotations" (dict "context" $) | nindent 2 }}
spec:
  {{- if $autoscaling }}
  {{- /* HPA manages the scale; start at its minimum so the rollout is deterministic. */}}
  replicas: {{ $cv.autoscaling.minReplicas }}
  {{- else }}
  replicas: {{ $cv.replicaCount }}
  {{- end }}
  {{- if $cv.updateStrategy }}
  strategy: {{- toYaml $cv.updateStrategy | nindent 4 }}
  {{- end }}
  selector:
    matchLabels: {{- include "common.labels.matchLabels" $ | nindent 6 }}
      app.kubernetes.io/component: {{ $name }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include "carto.component.configData" (dict "key" $key "meta" $meta "context" $) | sha256sum }}
        checksum/secret: {{ include "carto.component.secretData" (dict "vars" $meta.secretEnv "context" $) | sha256sum }}
        {{- if $cv.podAnnotations }}
        {{- include "common.tplvalues.render" (dict "value" $cv.podAnnotations "context" $) | nindent 8 }}
        {{- end }}
      labels: {{- include "common.labels.standard" $ | nindent 8 }}
        app.kubernetes.io/component: {{ $name }}
        {{- if $.Values.commonLabels }}
        {{- include "common.tplvalues.render" (dict "value" $.Values.commonLabels "context" $) | nindent 8 }}
        {{- end }}
        {{- if $cv.podLabels }}
        {{- include "common.tplvalues.render" (dict "value" $cv.podLabels "context" $) | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "carto.component.serviceAccountName" (dict "key" $key "name" $name "context" $) }}
      {{- if hasKey $cv "serviceAccount" }}
      automountServiceAccountToken: {{ $cv.serviceAccount.automountServiceAccountToken }}
      {{- else }}
      automountServiceAccountToken: {{ $.Values.commonBackendServiceAccount.automountServiceAccountToken }}
      {{- end }}
      {{- include "common.images.pullSecrets" (dict "images" (list $cv.image $.Values.workspaceMigrations.image $.Values.routerMetrics.image) "global" $.Values.global) | nindent 6 }}
      {{- if $cv.hostAliases }}
      hostAliases: {{- include "common.tplvalues.render" (dict "value" $cv.hostAliases "context" $) | nindent 8 }}
      {{- end }}
      {{- if $cv.affinity }}
      affinity: {{- include "common.tplvalues.render" (dict "value" $cv.affinity "context" $) | nindent 8 }}
      {{- else }}
      {{- $podAff := include "common.affinities.pods" (dict "type" ($cv.podAffinityPreset | default "") "component" $name "context" $) }}
      {{- $podAnti := include "common.affinities.pods" (dict "type" ($cv.podAntiAffinityPreset | default "") "component" $name "context" $) }}
      {{- $nodeAff := include "common.affinities.nodes" (dict "type" (dig "nodeAffinityPreset" "type" "" $cv) "key" (dig "nodeAffinityPreset" "key" "" $cv) "values" (dig "nodeAffinityPreset" "values" (list) $cv)) }}
      {{- if or $podAff $podAnti $nodeAff }}
      affinity:
        {{- if $podAff }}
        podAffinity: {{- $podAff | nindent 10 }}
        {{- end }}
        {{- if $podAnti }}
        podAntiAffinity: {{- $podAnti | nindent 10 }}
        {{- end }}
        {{- if $nodeAff }}
        nodeAffinity: {{- $nodeAff | nindent 10 }}
        {{- end }}
      {{- end }}
      {{- end }}
      {{- if $cv.nodeSelector }}
      nodeSelector: {{- include "common.tplvalues.render" (dict "value" $cv.nodeSelector "context" $) | nindent 8 }}
      {{- end }}
      {{- if $cv.tolerations }}
      tolerations: {{- include "common.tplvalues.render" (dict "value" $cv.tolerations "context" $) | nindent 8 }}
      {{- end }}
      {{- if $cv.priorityClassName }}
      priorityClassName: {{ $cv.priorityClassName | quote }}
      {{- end }}
      {{- if $cv.schedulerName }}
      schedulerName: {{ $cv.schedulerName | quote }}
      {{- end }}
      {{- if $cv.terminationGracePeriodSeconds }}
      terminationGracePeriodSeconds: {{ $cv.terminationGracePeriodSeconds }}
      {{- end }}
      {{- if $cv.podSecurityContext.enabled }}
      securityContext: {{- omit $cv.podSecurityContext "enabled" | toYaml | nindent 8 }}
      {{- end }}
      {{- if or $meta.migrations $cv.initContainers }}
      initContainers:
        {{- if and $meta.migrations (not $.Values.diagnosticMode.enabled) }}
        {{- $mv := $.Values.workspaceMigrations }}
        - name: workspace-migrations
          image: {{ include "carto.images.image" (dict "imageRoot" $mv.image "context" $) }}
          imagePullPolicy: {{ $mv.image.pullPolicy }}
          {{- if $mv.containerSecurityContext.enabled }}
          securityContext: {{- omit $mv.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          {{- if $mv.command }}
          command: {{- include "common.tplvalues.render" (dict "value" $mv.command "context" $) | nindent 12 }}
          {{- else }}
          command: ["/bin/sh"]
          {{- end }}
          {{- if $mv.args }}
          args: {{- include "common.tplvalues.render" (dict "value" $mv.args "context" $) | nindent 12 }}
          {{- else }}
          args: ["-ec", "/usr/src/app/onprem-init-db.sh"]
          {{- end }}
          {{- if $mv.resources }}
          resources: {{- toYaml $mv.resources | nindent 12 }}
          {{- end }}
          env:
            - name: POSTGRES_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ include "carto.postgresql.secretName" $ | quote }}
                  key: {{ include "carto.postgresql.secret.adminKey" $ | quote }}
            - name: POSTGRES_ADMIN_USER
              value: {{ include "carto.postgresql.adminUser" $ | quote }}
            - name: POSTGRES_INTERNAL_ADMIN_USER
              value: {{ include "carto.postgresql.internalAdminUser" $ | quote }}
            {{- include "carto.component.dbEnv" (dict "meta" $meta "context" $) | nindent 12 }}
            {{- include "carto.component.secretEnvRefs" (dict "vars" $meta.secretEnv "context" $) | nindent 12 }}
          envFrom: {{- include "carto.component.envFrom" (dict "key" $key "name" $name "meta" $meta "context" $) | nindent 12 }}
          volumeMounts: {{- include "carto.component.volumeMounts" (dict "meta" $meta "context" $) | nindent 12 }}
            - name: tmp
              mountPath: /tmp
        {{- end }}
        {{- if $cv.initContainers }}
        {{- include "common.tplvalues.render" (dict "value" $cv.initContainers "context" $) | nindent 8 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $meta.container | default $name }}
          image: {{ include "carto.images.image" (dict "imageRoot" $cv.image "context" $) }}
          imagePullPolicy: {{ $cv.image.pullPolicy }}
          {{- if $cv.containerSecurityContext.enabled }}
          securityContext: {{- omit $cv.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          {{- if $.Values.diagnosticMode.enabled }}
          command: {{- include "common.tplvalues.render" (dict "value" $.Values.diagnosticMode.command "context" $) | nindent 12 }}
          args: {{- include "common.tplvalues.render" (dict "value" $.Values.diagnosticMode.args "context" $) | nindent 12 }}
          {{- else }}
          {{- if $cv.command }}
          command: {{- include "common.tplvalues.render" (dict "value" $cv.command "context" $) | nindent 12 }}
          {{- end }}
          {{- if $cv.args }}
          args: {{- include "common.tplvalues.render" (dict "value" $cv.args "context" $) | nindent 12 }}
          {{- end }}
          {{- end }}
          env:
            - name: CARTO_COMPONENT
              value: {{ $name | quote }}
            {{- include "carto.component.dbEnv" (dict "meta" $meta "context" $) | nindent 12 }}
            {{- include "carto.component.secretEnvRefs" (dict "vars" $meta.secretEnv "context" $) | nindent 12 }}
            {{- if $cv.extraEnvVars }}
            {{- include "common.tplvalues.render" (dict "value" $cv.extraEnvVars "context" $) | nindent 12 }}
            {{- end }}
          envFrom: {{- include "carto.component.envFrom" (dict "key" $key "name" $name "meta" $meta "context" $) | nindent 12 }}
          {{- if $cv.resources }}
          resources: {{- toYaml $cv.resources | nindent 12 }}
          {{- end }}
          ports:
            {{- range $portName, $port := $cv.containerPorts }}
            - name: {{ $portName }}
              containerPort: {{ $port }}
              protocol: TCP
            {{- end }}
          {{- if not $.Values.diagnosticMode.enabled }}
          {{- $probePath := ternary "/health" "/" (eq $key "router") }}
          {{- with include "carto.probe" (dict "probe" $cv.livenessProbe "custom" $cv.customLivenessProbe "port" "http" "path" $probePath "context" $) }}
          livenessProbe: {{- . | nindent 12 }}
          {{- end }}
          {{- with include "carto.probe" (dict "probe" $cv.readinessProbe "custom" $cv.customReadinessProbe "port" "http" "path" $probePath "context" $) }}
          readinessProbe: {{- . | nindent 12 }}
          {{- end }}
          {{- with include "carto.probe" (dict "probe" $cv.startupProbe "custom" $cv.customStartupProbe "port" "http" "path" $probePath "context" $) }}
          startupProbe: {{- . | nindent 12 }}
          {{- end }}
          {{- end }}
          {{- if $cv.lifecycleHooks }}
          lifecycle: {{- include "common.tplvalues.render" (dict "value" $cv.lifecycleHooks "context" $) | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include "carto.component.volumeMounts" (dict "meta" $meta "context" $) | nindent 12 }}
            {{- if eq $key "router" }}
            {{- if $.Values.tlsCerts.httpsEnabled }}
            - name: router-tls
              mountPath: /usr/src/certs/router-tls
              readOnly: true
            {{- end }}
            - name: router-cache
              mountPath: /var/cache/nginx
            {{- end }}
            {{- if $cv.extraVolumeMounts }}
            {{- include "common.tplvalues.render" (dict "value" $cv.extraVolumeMounts "context" $) | nindent 12 }}
            {{- end }}
        {{- if and (eq $key "router") $.Values.routerMetrics.enabled }}
        {{- $rm := $.Values.routerMetrics }}
        - name: router-metrics
          image: {{ include "carto.images.image" (dict "imageRoot" $rm.image "context" $) }}
          imagePullPolicy: {{ $rm.image.pullPolicy }}
          {{- if $rm.containerSecurityContext.enabled }}
          securityContext: {{- omit $rm.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          {{- if $rm.command }}
          command: {{- include "common.tplvalues.render" (dict "value" $rm.command "context" $) | nindent 12 }}
          {{- end }}
          {{- if $rm.args }}
          args: {{- include "common.tplvalues.render" (dict "value" $rm.args "context" $) | nindent 12 }}
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
          {{- if $rm.resources }}
          resources: {{- toYaml $rm.resources | nindent 12 }}
          {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $rm.containerPorts.http }}
              protocol: TCP
          {{- with include "carto.probe" (dict "probe" $rm.livenessProbe "custom" $rm.customLivenessProbe "port" "metrics" "path" "/metrics" "context" $) }}
          livenessProbe: {{- . | nindent 12 }}
          {{- end }}
          {{- with include "carto.probe" (dict "probe" $rm.readinessProbe "custom" $rm.customReadinessProbe "port" "metrics" "path" "/metrics" "context" $) }}
          readinessProbe: {{- . | nindent 12 }}
          {{- end }}
        {{- end }}
        {{- if $cv.sidecars }}
        {{- include "common.tplvalues.render" (dict "value" $cv.sidecars "context" $) | nindent 8 }}
        {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- include "carto.component.volumes" (dict "meta" $meta "context" $) | nindent 8 }}
        {{- if eq $key "router" }}
        {{- if $.Values.tlsCerts.httpsEnabled }}
        - name: router-tls
          secret:
            secretName: {{ include "carto.tlsCerts.secretName" $ }}
            items:
              - key: {{ include "carto.tlsCerts.secretCertKey" $ }}
                path: tls.crt
              - key: {{ include "carto.tlsCerts.secretKeyKey" $ }}
                path: tls.key
        {{- end }}
        - name: router-cache
          emptyDir: {}
        {{- end }}
        {{- if $cv.extraVolumes }}
        {{- include "common.tplvalues.render" (dict "value" $cv.extraVolumes "context" $) | nindent 8 }}
        {{- end }}
{{- end -}}
