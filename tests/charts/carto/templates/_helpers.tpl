{{/* vim: set filetype=mustache: */}}
{{/*
CARTO helpers of the TEST DOUBLE. Names follow the real chart:
  <fullname>-<component>          Deployments, Services, ConfigMaps, Secrets
  <release>-externalpostgresql    Secret (db-password / db-admin-password) + CA ConfigMap
  <release>-externalredis         Secret (redis-password) + CA ConfigMap
  <fullname>-postgresql           internal PostgreSQL (former bitnami subchart)
  <fullname>-redis(-master)       internal Redis/Valkey
*/}}

{{- define "carto.fullname" -}}
{{- include "common.names.fullname" . -}}
{{- end -}}

{{/*
Component table: values key => component name and what the test double wires
into it. "secretEnv" lists environment variables taken from appSecrets /
cartoSecrets (see carto.secretAssociation); "db"/"redis"/"google" say whether
the pod gets the PostgreSQL / Redis connection and the default Google service
account key; "noSecret": no Secret (nor envFrom of it) of the component's own
(accounts-www, notifier and router have a ConfigMap only in carto/carto
1.287.1); "container": the main container's name (default: the component name).
*/}}
{{- define "carto.components" -}}
accountsWww:
  name: accounts-www
  noSecret: true
  secretEnv: []
cdnInvalidatorSub:
  name: cdn-invalidator-sub
  google: true
  secretEnv: [VARNISH_PURGE_SECRET, LAUNCHDARKLY_SDK_KEY]
httpCache:
  name: http-cache
  secretEnv: [VARNISH_PURGE_SECRET, VARNISH_DEBUG_SECRET]
importApi:
  name: import-api
  db: true
  redis: true
  google: true
  gcsKey: true
  secretEnv: [ENCRYPTION_SECRET_KEY, JWT_API_SECRET, LAUNCHDARKLY_SDK_KEY, IMPORT_ACCESSKEYID, IMPORT_SECRETACCESSKEY, IMPORT_STORAGE_ACCESSKEY, IMPORT_AWS_ACCESS_KEY_ID, IMPORT_AWS_SECRET_ACCESS_KEY]
importWorker:
  name: import-worker
  db: true
  redis: true
  google: true
  gcsKey: true
  secretEnv: [ENCRYPTION_SECRET_KEY, LAUNCHDARKLY_SDK_KEY, IMPORT_ACCESSKEYID, IMPORT_SECRETACCESSKEY, IMPORT_STORAGE_ACCESSKEY, IMPORT_AWS_ACCESS_KEY_ID, IMPORT_AWS_SECRET_ACCESS_KEY, EXPORT_AWS_ACCESS_KEY_ID, EXPORT_AWS_SECRET_ACCESS_KEY]
ldsApi:
  name: lds-api
  db: true
  redis: true
  google: true
  secretEnv: [ENCRYPTION_SECRET_KEY, JWT_API_SECRET, LAUNCHDARKLY_SDK_KEY, LDS_HERE_API_KEY, LDS_TOMTOM_API_KEY, LDS_GOOGLE_API_KEY, LDS_MAPBOX_API_KEY, LDS_TRAVELTIME_API_KEY, LDS_TRAVELTIME_APP_ID]
mapsApi:
  name: maps-api
  db: true
  redis: true
  google: true
  secretEnv: [ENCRYPTION_SECRET_KEY, JWT_API_SECRET, LAUNCHDARKLY_SDK_KEY, VARNISH_PURGE_SECRET]
notifier:
  name: notifier
  noSecret: true
  secretEnv: []
publicEventsApi:
  name: public-events-api
  db: true
  redis: true
  google: true
  secretEnv: [ENCRYPTION_SECRET_KEY, JWT_API_SECRET]
router:
  name: router
  container: router-http
  noSecret: true
  google: true
  secretEnv: []
sqlWorker:
  name: sql-worker
  db: true
  redis: true
  google: true
  secretEnv: [ENCRYPTION_SECRET_KEY, LAUNCHDARKLY_SDK_KEY]
workspaceApi:
  name: workspace-api
  db: true
  redis: true
  google: true
  gcsKey: true
  migrations: true
  secretEnv: [ENCRYPTION_SECRET_KEY, JWT_API_SECRET, LAUNCHDARKLY_SDK_KEY, VARNISH_PURGE_SECRET, INSTANCE_ID, GITBOOK_API_TOKEN, VITALLY_TOKEN, BIGQUERY_OAUTH2_CLIENT_SECRET, REACT_APP_GOOGLE_MAPS_API_KEY, WORKSPACE_IMPORTS_ACCESSKEYID, WORKSPACE_IMPORTS_SECRETACCESSKEY, WORKSPACE_IMPORTS_STORAGE_ACCESSKEY, WORKSPACE_THUMBNAILS_ACCESSKEYID, WORKSPACE_THUMBNAILS_SECRETACCESSKEY, WORKSPACE_THUMBNAILS_STORAGE_ACCESSKEY, EXPORT_AWS_ACCESS_KEY_ID, EXPORT_AWS_SECRET_ACCESS_KEY]
workspaceSubscriber:
  name: workspace-subscriber
  db: true
  redis: true
  google: true
  secretEnv: [ENCRYPTION_SECRET_KEY, LAUNCHDARKLY_SDK_KEY, VARNISH_PURGE_SECRET]
workspaceWww:
  name: workspace-www
  secretEnv: [REACT_APP_GOOGLE_MAPS_API_KEY]
{{- end -}}

{{/*
Environment variable => values path of a { value, existingSecret: { name, key } } entry.
*/}}
{{- define "carto.secretAssociation" -}}
BIGQUERY_OAUTH2_CLIENT_SECRET: appSecrets.bigqueryOauth2ClientSecret
ENCRYPTION_SECRET_KEY: cartoSecrets.encryptionSecretKey
EXPORT_AWS_ACCESS_KEY_ID: appSecrets.exportAwsAccessKeyId
EXPORT_AWS_SECRET_ACCESS_KEY: appSecrets.exportAwsSecretAccessKey
GITBOOK_API_TOKEN: cartoSecrets.gitbookApiToken
IMPORT_ACCESSKEYID: appSecrets.awsAccessKeyId
IMPORT_AWS_ACCESS_KEY_ID: appSecrets.importAwsAccessKeyId
IMPORT_AWS_SECRET_ACCESS_KEY: appSecrets.importAwsSecretAccessKey
IMPORT_SECRETACCESSKEY: appSecrets.awsAccessKeySecret
IMPORT_STORAGE_ACCESSKEY: appSecrets.azureStorageAccessKey
INSTANCE_ID: cartoSecrets.instanceId
JWT_API_SECRET: cartoSecrets.jwtApiSecret
LAUNCHDARKLY_SDK_KEY: cartoSecrets.launchDarklySdkKey
LDS_GOOGLE_API_KEY: appSecrets.ldsGoogleApiKey
LDS_HERE_API_KEY: appSecrets.ldsHereApiKey
LDS_MAPBOX_API_KEY: appSecrets.ldsMapboxApiKey
LDS_TOMTOM_API_KEY: appSecrets.ldsTomTomApiKey
LDS_TRAVELTIME_API_KEY: appSecrets.ldsTravelTimeApiKey
LDS_TRAVELTIME_APP_ID: appSecrets.ldsTravelTimeAppId
REACT_APP_GOOGLE_MAPS_API_KEY: appSecrets.googleMapsApiKey
VARNISH_DEBUG_SECRET: cartoSecrets.varnishDebugSecret
VARNISH_PURGE_SECRET: cartoSecrets.varnishPurgeSecret
VITALLY_TOKEN: cartoSecrets.vitallyToken
WORKSPACE_IMPORTS_ACCESSKEYID: appSecrets.awsAccessKeyId
WORKSPACE_IMPORTS_SECRETACCESSKEY: appSecrets.awsAccessKeySecret
WORKSPACE_IMPORTS_STORAGE_ACCESSKEY: appSecrets.azureStorageAccessKey
WORKSPACE_THUMBNAILS_ACCESSKEYID: appSecrets.awsAccessKeyId
WORKSPACE_THUMBNAILS_SECRETACCESSKEY: appSecrets.awsAccessKeySecret
WORKSPACE_THUMBNAILS_STORAGE_ACCESSKEY: appSecrets.azureStorageAccessKey
{{- end -}}

{{/*
Returns "true" when the component of values key .key is deployed.
Usage: include "carto.component.enabled" (dict "key" "httpCache" "context" $)
*/}}
{{- define "carto.component.enabled" -}}
{{- $v := .context.Values -}}
{{- $onlyRouter := or $v.cartoConfigValues.onlyRunRouter $v.cartoConfigValues.ingressTestingMode -}}
{{- if eq .key "router" -}}
true
{{- else if $onlyRouter -}}
{{- else if eq .key "httpCache" -}}
{{- if $v.appConfigValues.httpCacheEnabled }}true{{ end -}}
{{- else if eq .key "publicEventsApi" -}}
{{- if $v.appConfigValues.publicEventsApiEnabled }}true{{ end -}}
{{- else -}}
true
{{- end -}}
{{- end -}}

{{/*
Image "registry/repository:tag"; tag defaults to the chart appVersion and
global.imageRegistry overrides the registry (as in the real chart).
Usage: include "carto.images.image" (dict "imageRoot" .Values.router.image "context" $)
*/}}
{{- define "carto.images.image" -}}
{{- $registry := .imageRoot.registry -}}
{{- if .context.Values.global.imageRegistry -}}
{{- $registry = .context.Values.global.imageRegistry -}}
{{- end -}}
{{- $tag := (coalesce .imageRoot.tag .context.Chart.AppVersion) | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .imageRoot.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .imageRoot.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "carto.imagePullSecrets" -}}
{{- $v := .Values -}}
{{- include "common.images.pullSecrets" (dict "images" (list $v.accountsWww.image $v.importApi.image $v.importWorker.image $v.ldsApi.image $v.mapsApi.image $v.router.image $v.httpCache.image $v.cdnInvalidatorSub.image $v.notifier.image $v.sqlWorker.image $v.workspaceApi.image $v.workspaceSubscriber.image $v.workspaceWww.image $v.workspaceMigrations.image) "global" $v.global) -}}
{{- end -}}

{{- define "carto.commonSA.serviceAccountName" -}}
{{- if .Values.commonBackendServiceAccount.create -}}
{{- default (printf "%s-common-backend" (include "carto.fullname" .)) .Values.commonBackendServiceAccount.name -}}
{{- else -}}
{{- default "default" .Values.commonBackendServiceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ Domain */}}

{{- define "carto.baseUrl" -}}
{{- .Values.appConfigValues.selfHostedDomain | toString -}}
{{- end -}}

{{/* ------------------------------------------------------------------ TLS */}}

{{- define "carto.tlsCerts.secretName" -}}
{{- if .Values.tlsCerts.existingSecret.name -}}
{{- .Values.tlsCerts.existingSecret.name -}}
{{- else if .Values.router.tlsCertificates.certificateValueBase64 -}}
{{- printf "%s-router-custom-tls" (include "carto.fullname" .) -}}
{{- else -}}
{{- printf "%s-tls" (include "carto.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "carto.tlsCerts.secretCertKey" -}}
{{- if .Values.tlsCerts.existingSecret.name -}}
{{- default "tls.crt" .Values.tlsCerts.existingSecret.certKey -}}
{{- else -}}
tls.crt
{{- end -}}
{{- end -}}

{{- define "carto.tlsCerts.secretKeyKey" -}}
{{- if .Values.tlsCerts.existingSecret.name -}}
{{- default "tls.key" .Values.tlsCerts.existingSecret.keyKey -}}
{{- else -}}
tls.key
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ Google service account */}}

{{- define "carto.google.secretName" -}}
{{- if .Values.cartoSecrets.defaultGoogleServiceAccount.existingSecret.name -}}
{{- .Values.cartoSecrets.defaultGoogleServiceAccount.existingSecret.name -}}
{{- else -}}
{{- printf "%s-gcp-default-service-account" (include "carto.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "carto.google.secretKey" -}}
{{- if .Values.cartoSecrets.defaultGoogleServiceAccount.existingSecret.name -}}
{{- default "key.json" .Values.cartoSecrets.defaultGoogleServiceAccount.existingSecret.key -}}
{{- else -}}
key.json
{{- end -}}
{{- end -}}

{{- define "carto.google.secretMountDir" -}}/usr/src/certs/gcp-default-service-account{{- end -}}
{{- define "carto.google.secretMountAbsolutePath" -}}/usr/src/certs/gcp-default-service-account/key.json{{- end -}}

{{- define "carto.googleCloudStorageServiceAccountKey.used" -}}
{{- if or .Values.appSecrets.googleCloudStorageServiceAccountKey.existingSecret.name .Values.appSecrets.googleCloudStorageServiceAccountKey.value -}}
true
{{- end -}}
{{- end -}}

{{- define "carto.googleCloudStorageServiceAccountKey.secretName" -}}
{{- if .Values.appSecrets.googleCloudStorageServiceAccountKey.existingSecret.name -}}
{{- .Values.appSecrets.googleCloudStorageServiceAccountKey.existingSecret.name -}}
{{- else -}}
{{- printf "%s-gcp-buckets-service-account" (include "carto.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "carto.googleCloudStorageServiceAccountKey.secretKey" -}}
{{- if .Values.appSecrets.googleCloudStorageServiceAccountKey.existingSecret.name -}}
{{- default "key.json" .Values.appSecrets.googleCloudStorageServiceAccountKey.existingSecret.key -}}
{{- else -}}
key.json
{{- end -}}
{{- end -}}

{{- define "carto.googleCloudStorageServiceAccountKey.secretMountDir" -}}/usr/src/certs/gcp-buckets-service-account{{- end -}}

{{/* ------------------------------------------------------------------ PostgreSQL */}}

{{- define "carto.postgresql.fullname" -}}
{{- include "common.names.dependency.fullname" (dict "chartName" "postgresql" "chartValues" .Values.internalPostgresql "context" $) -}}
{{- end -}}

{{/* Secret holding the PostgreSQL passwords (internal, existing, or created by the chart). */}}
{{- define "carto.postgresql.secretName" -}}
{{- if .Values.internalPostgresql.enabled -}}
{{- default (include "carto.postgresql.fullname" .) .Values.internalPostgresql.auth.existingSecret -}}
{{- else if .Values.externalPostgresql.existingSecret -}}
{{- .Values.externalPostgresql.existingSecret | toString | trim -}}
{{- else -}}
{{- printf "%s-externalpostgresql" .Release.Name -}}
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.secret.key" -}}
{{- if .Values.internalPostgresql.enabled -}}
password
{{- else if and .Values.externalPostgresql.existingSecret .Values.externalPostgresql.existingSecretPasswordKey -}}
{{- .Values.externalPostgresql.existingSecretPasswordKey -}}
{{- else -}}
db-password
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.secret.adminKey" -}}
{{- if .Values.internalPostgresql.enabled -}}
postgres-password
{{- else if and .Values.externalPostgresql.existingSecret .Values.externalPostgresql.existingSecretAdminPasswordKey -}}
{{- .Values.externalPostgresql.existingSecretAdminPasswordKey -}}
{{- else -}}
db-admin-password
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.host" -}}
{{- ternary (include "carto.postgresql.fullname" .) (.Values.externalPostgresql.host | toString) .Values.internalPostgresql.enabled -}}
{{- end -}}

{{- define "carto.postgresql.port" -}}
{{- ternary "5432" (.Values.externalPostgresql.port | toString) .Values.internalPostgresql.enabled -}}
{{- end -}}

{{- define "carto.postgresql.user" -}}
{{- ternary .Values.internalPostgresql.auth.username .Values.externalPostgresql.user .Values.internalPostgresql.enabled -}}
{{- end -}}

{{- define "carto.postgresql.internalUser" -}}
{{- if .Values.internalPostgresql.enabled -}}
{{- .Values.internalPostgresql.auth.username -}}
{{- else -}}
{{- default .Values.externalPostgresql.user .Values.externalPostgresql.internalUser -}}
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.adminUser" -}}
{{- ternary "postgres" .Values.externalPostgresql.adminUser .Values.internalPostgresql.enabled -}}
{{- end -}}

{{- define "carto.postgresql.internalAdminUser" -}}
{{- if .Values.internalPostgresql.enabled -}}
postgres
{{- else -}}
{{- default .Values.externalPostgresql.adminUser .Values.externalPostgresql.internalAdminUser -}}
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.databaseName" -}}
{{- ternary .Values.internalPostgresql.auth.database .Values.externalPostgresql.database .Values.internalPostgresql.enabled -}}
{{- end -}}

{{- define "carto.postgresql.sslEnabled" -}}
{{- ternary .Values.internalPostgresql.sslEnabled .Values.externalPostgresql.sslEnabled .Values.internalPostgresql.enabled | toString -}}
{{- end -}}

{{- define "carto.postgresql.caUsed" -}}
{{- if and (not .Values.internalPostgresql.enabled) .Values.externalPostgresql.sslEnabled .Values.externalPostgresql.sslCA -}}
true
{{- end -}}
{{- end -}}

{{- define "carto.postgresql.configMapName" -}}
{{- printf "%s-externalpostgresql" .Release.Name -}}
{{- end -}}

{{- define "carto.postgresql.configMapMountDir" -}}/usr/src/certs/postgresql-ssl-ca{{- end -}}

{{/* ------------------------------------------------------------------ Redis */}}

{{- define "carto.redis.fullname" -}}
{{- include "common.names.dependency.fullname" (dict "chartName" "valkey" "chartValues" .Values.internalRedis "context" $) -}}
{{- end -}}

{{- define "carto.redis.host" -}}
{{- ternary (include "carto.redis.fullname" .) (.Values.externalRedis.host | toString) .Values.internalRedis.enabled -}}
{{- end -}}

{{- define "carto.redis.port" -}}
{{- ternary "6379" (.Values.externalRedis.port | toString) .Values.internalRedis.enabled -}}
{{- end -}}

{{- define "carto.redis.secretName" -}}
{{- if .Values.internalRedis.enabled -}}
{{- default (include "carto.redis.fullname" .) .Values.internalRedis.existingSecret -}}
{{- else if .Values.externalRedis.existingSecret -}}
{{- .Values.externalRedis.existingSecret -}}
{{- else -}}
{{- printf "%s-externalredis" .Release.Name -}}
{{- end -}}
{{- end -}}

{{- define "carto.redis.existingsecret.key" -}}
{{- if .Values.internalRedis.enabled -}}
redis-password
{{- else if and .Values.externalRedis.existingSecret .Values.externalRedis.existingSecretPasswordKey -}}
{{- .Values.externalRedis.existingSecretPasswordKey -}}
{{- else -}}
redis-password
{{- end -}}
{{- end -}}

{{- define "carto.redis.caUsed" -}}
{{- if and (not .Values.internalRedis.enabled) .Values.externalRedis.tlsEnabled .Values.externalRedis.tlsCA -}}
true
{{- end -}}
{{- end -}}

{{- define "carto.redis.configMapName" -}}
{{- printf "%s-externalredis" .Release.Name -}}
{{- end -}}

{{- define "carto.redis.configMapMountDir" -}}/usr/src/certs/redis-tls-ca{{- end -}}

{{/* ------------------------------------------------------------------ Secrets from values */}}

{{/*
Value entry ({value, existingSecret}) of an environment variable, as YAML.
Usage: include "carto.secretEntry" (dict "var" "ENCRYPTION_SECRET_KEY" "context" $) | fromYaml
*/}}
{{- define "carto.secretEntry" -}}
{{- $map := include "carto.secretAssociation" . | fromYaml -}}
{{- $path := get $map .var -}}
{{- if not $path -}}
{{- fail (printf "test chart bug: no secret association for %s" .var) -}}
{{- end -}}
{{- $parts := splitList "." $path -}}
{{- $entry := index .context.Values (index $parts 0) (index $parts 1) -}}
{{- $entry = merge (dict "path" $path) $entry -}}
{{- toYaml $entry -}}
{{- end -}}

{{/*
Data of the component Secret: every secretEnv variable whose entry has no
existingSecret.name (real chart: carto._utils.generateSecretObjects).
*/}}
{{- define "carto.component.secretData" -}}
{{- $context := .context -}}
{{- range .vars }}
{{- $e := include "carto.secretEntry" (dict "var" . "context" $context) | fromYaml }}
{{- if not (dig "existingSecret" "name" "" $e) }}
{{ . }}: {{ ($e.value | default "" | toString) | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
env entries referencing existing secrets (real chart: carto._utils.generateSecretDefs).
*/}}
{{- define "carto.component.secretEnvRefs" -}}
{{- $context := .context -}}
{{- range .vars }}
{{- $e := include "carto.secretEntry" (dict "var" . "context" $context) | fromYaml }}
{{- $name := dig "existingSecret" "name" "" $e }}
{{- if $name }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $name | quote }}
      key: {{ dig "existingSecret" "key" "" $e | quote }}
{{- end }}
{{- end }}
{{- end -}}
