{{- define "pgo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default "pgo" .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false (https://access.crunchydata.com/documentation/postgres-operator/latest/installation/helm RBAC)" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
{{- define "pgo.labels" -}}
app.kubernetes.io/name: pgo
app.kubernetes.io/instance: {{ .Release.Name }}
postgres-operator.crunchydata.com/control-plane: pgo
{{- end -}}
