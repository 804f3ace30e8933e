{{/* vim: set filetype=mustache: */}}
{{/*
ConfigMap data (non-secret environment) of a component.
Usage: include "carto.component.configData" (dict "key" "workspaceApi" "meta" $meta "context" $)
*/}}
{{- define "carto.component.configData" -}}
{{- $ := .context -}}
{{- $v := $.Values -}}
{{- $meta := .meta -}}
{{- $cv := index $v .key -}}
{{- $fullname := include "carto.fullname" $ -}}
CARTO_SELFHOSTED_DOMAIN: {{ include "carto.baseUrl" $ | quote }}
SELFHOSTED_DOMAIN: {{ include "carto.baseUrl" $ | quote }}
CARTO_SELFHOSTED_VERSION: {{ $.Chart.AppVersion | quote }}
CARTO_SELFHOSTED_DEPLOYMENT_TYPE: {{ $v.appConfigValues.deploymentType | quote }}
LOG_LEVEL: {{ $v.appConfigValues.logLevel | quote }}
SELFHOSTED_TENANT_ID: {{ $v.cartoConfigValues.selfHostedTenantId | quote }}
SELFHOSTED_GCP_PROJECT_ID: {{ $v.cartoConfigValues.selfHostedGcpProjectId | quote }}
SELFHOSTED_GCP_PROJECT_REGION: {{ $v.cartoConfigValues.selfHostedGcpProjectRegion | quote }}
CARTO_ACC_API_DOMAIN: {{ $v.cartoConfigValues.cartoAccApiDomain | quote }}
CARTO_AUTH0_CLIENT_ID: {{ $v.cartoConfigValues.cartoAuth0ClientId | quote }}
CARTO_AUTH0_CUSTOM_DOMAIN: {{ $v.cartoConfigValues.cartoAuth0CustomDomain | quote }}
LAUNCH_DARKLY_CLIENT_SIDE_ID: {{ $v.cartoConfigValues.launchDarklyClientSideId | quote }}
{{- if $meta.google }}
{{- if not $v.commonBackendServiceAccount.enableGCPWorkloadIdentity }}
GOOGLE_APPLICATION_CREDENTIALS: {{ include "carto.google.secretMountAbsolutePath" $ | quote }}
{{- end }}
{{- end }}
{{- if $meta.db }}
WORKSPACE_POSTGRES_HOST: {{ include "carto.postgresql.host" $ | quote }}
WORKSPACE_POSTGRES_PORT: {{ include "carto.postgresql.port" $ | quote }}
WORKSPACE_POSTGRES_USER: {{ include "carto.postgresql.user" $ | quote }}
WORKSPACE_POSTGRES_INTERNAL_USER: {{ include "carto.postgresql.internalUser" $ | quote }}
WORKSPACE_POSTGRES_DB: {{ include "carto.postgresql.databaseName" $ | quote }}
WORKSPACE_POSTGRES_SSL_ENABLED: {{ include "carto.postgresql.sslEnabled" $ | quote }}
{{- if include "carto.postgresql.caUsed" $ }}
WORKSPACE_POSTGRES_SSL_CA: {{ printf "%s/ca.crt" (include "carto.postgresql.configMapMountDir" $) | quote }}
{{- end }}
{{- end }}
{{- if $meta.redis }}
REDIS_HOST: {{ include "carto.redis.host" $ | quote }}
REDIS_PORT: {{ include "carto.redis.port" $ | quote }}
REDIS_TLS_ENABLED: {{ and (not $v.internalRedis.enabled) $v.externalRedis.tlsEnabled | toString | quote }}
{{- if include "carto.redis.caUsed" $ }}
REDIS_TLS_CA: {{ printf "%s/ca.crt" (include "carto.redis.configMapMountDir" $) | quote }}
{{- end }}
{{- end }}
{{- if $meta.gcsKey }}
STORAGE_PROVIDER: {{ $v.appConfigValues.storageProvider | quote }}
WORKSPACE_IMPORTS_BUCKET: {{ $v.appConfigValues.workspaceImportsBucket | quote }}
WORKSPACE_IMPORTS_PUBLIC: {{ $v.appConfigValues.workspaceImportsPublic | toString | quote }}
WORKSPACE_THUMBNAILS_BUCKET: {{ $v.appConfigValues.workspaceThumbnailsBucket | quote }}
EXPORTS_GCS_BUCKET_NAME: {{ $v.appConfigValues.workspaceExportsBucket | quote }}
WORKSPACE_THUMBNAILS_PUBLIC: {{ $v.appConfigValues.workspaceThumbnailsPublic | toString | quote }}
WORKSPACE_THUMBNAILS_EXTERNAL_URL: {{ $v.appConfigValues.thumbnailsBucketExternalURL | quote }}
GOOGLE_CLOUD_STORAGE_PROJECT_ID: {{ $v.appConfigValues.googleCloudStorageProjectId | quote }}
AWS_S3_REGION: {{ $v.appConfigValues.awsS3Region | quote }}
AZURE_STORAGE_ACCOUNT: {{ $v.appConfigValues.azureStorageAccount | quote }}
{{- if include "carto.googleCloudStorageServiceAccountKey.used" $ }}
GOOGLE_CLOUD_STORAGE_CREDENTIALS: {{ printf "%s/key.json" (include "carto.googleCloudStorageServiceAccountKey.secretMountDir" $) | quote }}
{{- end }}
{{- end }}
{{- if eq .key "workspaceApi" }}
BIGQUERY_OAUTH2_CLIENT_ID: {{ $v.appConfigValues.bigqueryOauth2ClientId | quote }}
{{- end }}
{{- if has .key (list "accountsWww" "workspaceWww") }}
REACT_APP_ENABLE_TRACKJS: {{ $v.appConfigValues.enableTrackJS | toString | quote }}
{{- end }}
{{- if $v.externalProxy.enabled }}
HTTP_PROXY: {{ printf "%s://%s:%v" $v.externalProxy.type $v.externalProxy.host $v.externalProxy.port | quote }}
HTTPS_PROXY: {{ printf "%s://%s:%v" $v.externalProxy.type $v.externalProxy.host $v.externalProxy.port | quote }}
NO_PROXY: {{ join "," $v.externalProxy.excludedDomains | quote }}
{{- end }}
{{- if eq .key "router" }}
ROUTER_HTTPS_ENABLED: {{ $v.tlsCerts.httpsEnabled | toString | quote }}
ROUTER_SSL_AUTOGENERATE: {{ and $v.tlsCerts.httpsEnabled $v.tlsCerts.autoGenerate (not $v.tlsCerts.existingSecret.name) | toString | quote }}
{{- if $v.tlsCerts.httpsEnabled }}
ROUTER_SSL_CERTIFICATE_PATH: "/usr/src/certs/router-tls/tls.crt"
ROUTER_SSL_CERTIFICATE_KEY_PATH: "/usr/src/certs/router-tls/tls.key"
{{- end }}
ROUTER_TESTING_MODE: {{ $v.cartoConfigValues.ingressTestingMode | toString | quote }}
{{- range $k, $val := $v.router.nginxConfig }}
NGINX_{{ $k | upper }}: {{ $val | toString | quote }}
{{- end }}
{{- $components := include "carto.components" $ | fromYaml }}
{{- range $k := keys $components | sortAlpha }}
{{- $c := get $components $k }}
{{- if and (ne $k "router") (include "carto.component.enabled" (dict "key" $k "context" $)) (hasKey (index $v $k) "service") }}
ROUTER_{{ $c.name | upper | replace "-" "_" }}_UPSTREAM: {{ printf "%s-%s:%v" $fullname $c.name (index $v $k).service.ports.http | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
