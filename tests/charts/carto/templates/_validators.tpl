{{/* vim: set filetype=mustache: */}}
{{/*
Render-time checks. Like the real chart, all value problems are collected and
reported at once ("VALUES VALIDATION:"), and the Kubernetes version preflight
fails below 1.29.
*/}}

{{/*
Kubernetes version preflight: the real chart refuses Kubernetes < 1.29 and
warns below 1.30 (the warning is in NOTES.txt).
*/}}
{{- define "carto.validateKubeVersion" -}}
{{- $kube := .Capabilities.KubeVersion.Version -}}
{{- if semverCompare "<1.29.0-0" $kube -}}
{{- fail (printf "\nCARTO: Unsupported Kubernetes version %s\n\nCARTO Self-Hosted requires Kubernetes >= 1.29 (>= 1.30 recommended). Upgrade your cluster before installing or upgrading CARTO." $kube) -}}
{{- end -}}
{{- end -}}

{{/*
Keys that the CARTO installation package (carto-values.yaml) provides.
*/}}
{{- define "carto.packageConfigKeys" -}}
- selfHostedTenantId
- selfHostedGcpProjectId
- selfHostedGcpProjectRegion
- cartoAccApiDomain
- cartoAuth0ClientId
- cartoAuth0CustomDomain
{{- end -}}

{{/*
Secrets that the CARTO installation package (carto-secrets.yaml) provides:
each needs either .value or .existingSecret.name.
*/}}
{{- define "carto.packageSecretKeys" -}}
- defaultGoogleServiceAccount
- encryptionSecretKey
- jwtApiSecret
- launchDarklySdkKey
- varnishPurgeSecret
- varnishDebugSecret
{{- end -}}

{{- define "carto.validateValues.package" -}}
{{- $missing := list -}}
{{- range (include "carto.packageConfigKeys" . | fromYamlArray) -}}
{{- if not (get $.Values.cartoConfigValues .) -}}
{{- $missing = append $missing (printf "cartoConfigValues.%s (carto-values.yaml)" .) -}}
{{- end -}}
{{- end -}}
{{- range (include "carto.packageSecretKeys" . | fromYamlArray) -}}
{{- $entry := get $.Values.cartoSecrets . -}}
{{- if not (or (dig "value" "" $entry) (dig "existingSecret" "name" "" $entry)) -}}
{{- $missing = append $missing (printf "cartoSecrets.%s.value or cartoSecrets.%s.existingSecret.name (carto-secrets.yaml)" . .) -}}
{{- end -}}
{{- end -}}
{{- if $missing -}}
CARTO: Missing CARTO installation package values

The following values are provided by your CARTO Self-Hosted installation package.
Add the package files to the helm command: -f carto-values.yaml -f carto-secrets.yaml
{{- range $missing }}
  - {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "carto.validateValues.domain" -}}
{{- if not (include "carto.baseUrl" . | trim) -}}
CARTO: Missing selfHostedDomain

You need to set appConfigValues.selfHostedDomain to the full domain (not a path) used to access CARTO Self-Hosted.
{{- end -}}
{{- end -}}

{{/*
Real chart: fails when internalPostgresql.enabled=false and externalPostgresql.host is empty.
Test double (stricter): also fails when the host is still localhost / 127.0.0.1,
since no pod can reach an external database there.
*/}}
{{- define "carto.validateValues.postgresql" -}}
{{- if not .Values.internalPostgresql.enabled -}}
{{- $host := .Values.externalPostgresql.host | default "" | toString | trim -}}
{{- if not $host -}}
CARTO: Missing PostgreSQL

If internalPostgresql.enabled=false you need to specify the host of an external PostgreSQL instance setting externalPostgresql.host
{{- else if has $host (list "localhost" "127.0.0.1" "::1") -}}
CARTO: Missing PostgreSQL

If internalPostgresql.enabled=false you need to specify the host of an external PostgreSQL instance setting externalPostgresql.host (got "{{ $host }}", unreachable from the CARTO pods)
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "carto.validateValues.redis" -}}
{{- if and (not .Values.internalRedis.enabled) (not .Values.cartoConfigValues.onlyRunRouter) -}}
{{- $host := .Values.externalRedis.host | default "" | toString | trim -}}
{{- if not $host -}}
CARTO: Missing Redis(TM)

If internalRedis.enabled=false you need to specify the host of an external Redis(TM) instance setting externalRedis.host
{{- else if has $host (list "localhost" "127.0.0.1" "::1") -}}
CARTO: Missing Redis(TM)

If internalRedis.enabled=false you need to specify the host of an external Redis(TM) instance setting externalRedis.host (got "{{ $host }}", unreachable from the CARTO pods)
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "carto.validateValues.proxy" -}}
{{- if and .Values.externalProxy.enabled .Values.externalProxy.sslCA .Values.externalProxy.sslCAConfigmap.name -}}
CARTO: Duplicated SSL CA

If externalProxy.enabled=true you need to specify either externalProxy.sslCA or externalProxy.sslCAConfigmap, not both.
{{- end -}}
{{- end -}}

{{- define "carto.validateValues.logLevel" -}}
{{- $validLevels := list "info" "debug" "error" -}}
{{- if not (has .Values.appConfigValues.logLevel $validLevels) -}}
{{- printf "Invalid logLevel: %s. Must be one of %v" .Values.appConfigValues.logLevel $validLevels -}}
{{- end -}}
{{- end -}}

{{- define "carto.validateValues.tls" -}}
{{- if and .Values.tlsCerts.existingSecret.name .Values.router.tlsCertificates.certificateValueBase64 -}}
CARTO: Duplicated TLS certificate

You cannot define both tlsCerts.existingSecret.name and router.tlsCertificates.certificateValueBase64
{{- else if and .Values.tlsCerts.httpsEnabled (not .Values.tlsCerts.autoGenerate) (not .Values.tlsCerts.existingSecret.name) (not .Values.router.tlsCertificates.certificateValueBase64) -}}
CARTO: Missing TLS certificate

tlsCerts.httpsEnabled=true and tlsCerts.autoGenerate=false: set tlsCerts.existingSecret.name (a kubernetes.io/tls Secret) or router.tlsCertificates.
{{- end -}}
{{- end -}}

{{- define "carto.validateValues" -}}
{{- $messages := list -}}
{{- $messages = append $messages (include "carto.validateValues.package" .) -}}
{{- $messages = append $messages (include "carto.validateValues.domain" .) -}}
{{- $messages = append $messages (include "carto.validateValues.redis" .) -}}
{{- $messages = append $messages (include "carto.validateValues.postgresql" .) -}}
{{- $messages = append $messages (include "carto.validateValues.proxy" .) -}}
{{- $messages = append $messages (include "carto.validateValues.logLevel" .) -}}
{{- $messages = append $messages (include "carto.validateValues.tls" .) -}}
{{- $messages = without $messages "" -}}
{{- $message := join "\n\n" $messages -}}
{{- if $message -}}
{{- printf "\nVALUES VALIDATION:\n%s" $message | fail -}}
{{- end -}}
{{- end -}}
