{{/* The chart's name. */}}
{{- define "authsvc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, the prefix of every object. */}}
{{- define "authsvc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "authsvc.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "authsvc.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "authsvc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "authsvc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "authsvc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authsvc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The Secret holding SECRET_KEY, REFRESH_SECRET_KEY and the Redis secret. */}}
{{- define "authsvc.secretName" -}}
{{- default (include "authsvc.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The Secret holding the credentials file. */}}
{{- define "authsvc.credentialsSecretName" -}}
{{- default (printf "%s-credentials" (include "authsvc.fullname" .)) .Values.credentials.existingSecret }}
{{- end }}

{{- define "authsvc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "authsvc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Fails the render on values that cannot work. */}}
{{- define "authsvc.validate" -}}
{{- $_ := required "config.jwtIssuer is required" .Values.config.jwtIssuer }}
{{- $_ := required "config.jwtAudience is required" .Values.config.jwtAudience }}
{{- if not (has .Values.redis.mode (list "single" "sentinel" "cluster")) }}
{{- fail "redis.mode must be single, sentinel or cluster" }}
{{- end }}
{{- if and (eq .Values.redis.mode "sentinel") (or (empty .Values.redis.sentinel.addrs) (empty .Values.redis.sentinel.masterName)) }}
{{- fail "redis.sentinel.addrs and redis.sentinel.masterName are required with redis.mode=sentinel" }}
{{- end }}
{{- if and (eq .Values.redis.mode "cluster") (empty .Values.redis.cluster.addrs) }}
{{- fail "redis.cluster.addrs is required with redis.mode=cluster" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- $_ := required "secrets.secretKey (or secrets.existingSecret) is required" .Values.secrets.secretKey }}
{{- $_ := required "secrets.refreshSecretKey (or secrets.existingSecret) is required" .Values.secrets.refreshSecretKey }}
{{- if and .Values.redis.auth (empty .Values.secrets.redisPassword) }}
{{- fail "secrets.redisPassword (or secrets.existingSecret) is required with redis.auth" }}
{{- end }}
{{- if and (eq .Values.redis.mode "single") (empty .Values.redis.url) }}
{{- fail "redis.url (or secrets.existingSecret) is required with redis.mode=single" }}
{{- end }}
{{- end }}
{{- if and (not .Values.credentials.existingSecret) (empty .Values.credentials.content) }}
{{- fail "credentials.existingSecret or credentials.content is required" }}
{{- end }}
{{- if and .Values.keys.enabled (empty .Values.keys.existingSecret) }}
{{- fail "keys.existingSecret is required with keys.enabled" }}
{{- end }}
{{- if lt (int .Values.replicaCount) 2 }}
{{- fail "replicaCount must be at least 2: one replica cannot survive a node drain" }}
{{- end }}
{{- end }}
