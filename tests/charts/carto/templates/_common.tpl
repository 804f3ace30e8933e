{{/* vim: set filetype=mustache: */}}
{{/*
Minimal re-implementation of the bitnami "common" library helpers that the
real chart (and CARTO's customization examples, through extraDeploy) use.
The real chart depends on bitnami/common 1.x; the test double has no
dependencies, so the helpers it needs live here.
*/}}

{{- define "common.names.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.names.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.names.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Fully qualified name of a (former) subchart, like bitnami's
common.names.dependency.fullname: honours <alias>.fullnameOverride and
<alias>.nameOverride.
Usage: include "common.names.dependency.fullname" (dict "chartName" "postgresql" "chartValues" .Values.internalPostgresql "context" $)
*/}}
{{- define "common.names.dependency.fullname" -}}
{{- if .chartValues.fullnameOverride -}}
{{- .chartValues.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .chartName .chartValues.nameOverride -}}
{{- if contains $name .context.Release.Name -}}
{{- .context.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .context.Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "common.labels.standard" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
helm.sh/chart: {{ include "common.names.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "common.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Renders a value that contains template.
Usage: include "common.tplvalues.render" (dict "value" .Values.path.to.value "context" $)
*/}}
{{- define "common.tplvalues.render" -}}
{{- if typeIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (.value | toYaml) .context -}}
{{- end -}}
{{- end -}}

{{- define "common.capabilities.kubeVersion" -}}
{{- default .Capabilities.KubeVersion.Version .Values.kubeVersion -}}
{{- end -}}

{{- define "common.capabilities.deployment.apiVersion" -}}
{{- print "apps/v1" -}}
{{- end -}}

{{- define "common.capabilities.statefulset.apiVersion" -}}
{{- print "apps/v1" -}}
{{- end -}}

{{- define "common.capabilities.ingress.apiVersion" -}}
{{- print "networking.k8s.io/v1" -}}
{{- end -}}

{{- define "common.capabilities.hpa.apiVersion" -}}
{{- print "autoscaling/v2" -}}
{{- end -}}

{{- define "common.capabilities.policy.apiVersion" -}}
{{- default "policy/v1" .Values.global.kubernetesPolicyVersion -}}
{{- end -}}

{{/*
Soft/hard pod (anti-)affinity preset, as in bitnami common.affinities.pods.
Usage: include "common.affinities.pods" (dict "type" "soft" "component" "router" "context" $)
*/}}
{{- define "common.affinities.pods" -}}
{{- if eq .type "soft" }}
preferredDuringSchedulingIgnoredDuringExecution:
  - podAffinityTerm:
      labelSelector:
        matchLabels: {{- (include "common.labels.matchLabels" .context) | nindent 10 }}
          app.kubernetes.io/component: {{ .component }}
      topologyKey: kubernetes.io/hostname
    weight: 1
{{- else if eq .type "hard" }}
requiredDuringSchedulingIgnoredDuringExecution:
  - labelSelector:
      matchLabels: {{- (include "common.labels.matchLabels" .context) | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
    topologyKey: kubernetes.io/hostname
{{- end -}}
{{- end -}}

{{/*
Node affinity preset, as in bitnami common.affinities.nodes.
Usage: include "common.affinities.nodes" (dict "type" "soft" "key" "k" "values" (list "a"))
*/}}
{{- define "common.affinities.nodes" -}}
{{- if and .type .key .values -}}
{{- if eq .type "soft" }}
preferredDuringSchedulingIgnoredDuringExecution:
  - preference:
      matchExpressions:
        - key: {{ .key }}
          operator: In
          values: {{- toYaml .values | nindent 12 }}
    weight: 1
{{- else if eq .type "hard" }}
requiredDuringSchedulingIgnoredDuringExecution:
  nodeSelectorTerms:
    - matchExpressions:
        - key: {{ .key }}
          operator: In
          values: {{- toYaml .values | nindent 12 }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Image pull secrets from global.imagePullSecrets plus each image's pullSecrets.
Usage: include "common.images.pullSecrets" (dict "images" (list .Values.a.image) "global" .Values.global)
*/}}
{{- define "common.images.pullSecrets" -}}
{{- $pullSecrets := list -}}
{{- range .global.imagePullSecrets -}}
{{- if typeIs "string" . -}}
{{- $pullSecrets = append $pullSecrets . -}}
{{- else -}}
{{- $pullSecrets = append $pullSecrets .name -}}
{{- end -}}
{{- end -}}
{{- range .images -}}
{{- range .pullSecrets -}}
{{- if typeIs "string" . -}}
{{- $pullSecrets = append $pullSecrets . -}}
{{- else -}}
{{- $pullSecrets = append $pullSecrets .name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $pullSecrets }}
imagePullSecrets:
{{- range $pullSecrets | uniq }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}
