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

{{/* The container's environment: every setting, secrets as *_FILE paths. */}}
{{- define "authsvc.env" -}}
- name: HTTP_ADDR
  value: ":{{ .Values.ports.http }}"
- name: MANAGEMENT_ADDR
  value: ":{{ .Values.ports.management }}"
- name: JWT_ISSUER
  value: {{ .Values.config.jwtIssuer | quote }}
- name: JWT_AUDIENCE
  value: {{ .Values.config.jwtAudience | quote }}
- name: JWT_ALGORITHM
  value: {{ .Values.config.jwtAlgorithm | quote }}
- name: ACCESS_TOKEN_TTL
  value: {{ .Values.config.accessTokenTTL | quote }}
- name: REFRESH_TOKEN_TTL
  value: {{ .Values.config.refreshTokenTTL | quote }}
{{- with .Values.config.trustedProxies }}
- name: TRUSTED_PROXIES
  value: {{ . | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: LOG_FORMAT
  value: json
- name: SECRET_KEY_FILE
  value: /etc/authsvc/secrets/{{ .Values.secrets.keys.secretKey }}
- name: REFRESH_SECRET_KEY_FILE
  value: /etc/authsvc/secrets/{{ .Values.secrets.keys.refreshSecretKey }}
- name: CREDENTIALS_FILE
  value: /etc/authsvc/credentials/{{ .Values.credentials.key }}
{{- if .Values.keys.enabled }}
- name: JWT_KEYS_FILE
  value: /etc/authsvc/keys/{{ .Values.keys.file }}
{{- end }}
- name: STORE
  value: redis
- name: REDIS_KEY_PREFIX
  value: {{ .Values.redis.keyPrefix | quote }}
{{- if eq .Values.redis.mode "single" }}
- name: REDIS_URL_FILE
  value: /etc/authsvc/secrets/{{ .Values.secrets.keys.redisURL }}
{{- else }}
{{- if eq .Values.redis.mode "sentinel" }}
- name: REDIS_SENTINEL_ADDRS
  value: {{ join "," .Values.redis.sentinel.addrs | quote }}
- name: REDIS_SENTINEL_MASTER
  value: {{ .Values.redis.sentinel.masterName | quote }}
{{- else }}
- name: REDIS_CLUSTER_ADDRS
  value: {{ join "," .Values.redis.cluster.addrs | quote }}
{{- end }}
{{- with .Values.redis.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.redis.auth }}
- name: REDIS_PASSWORD_FILE
  value: /etc/authsvc/secrets/{{ .Values.secrets.keys.redisPassword }}
{{- end }}
- name: REDIS_TLS
  value: {{ .Values.redis.tls | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Where the Secrets are mounted: whole folders, never subPath. */}}
{{- define "authsvc.volumeMounts" -}}
- name: secrets
  mountPath: /etc/authsvc/secrets
  readOnly: true
- name: credentials
  mountPath: /etc/authsvc/credentials
  readOnly: true
{{- if .Values.keys.enabled }}
- name: keys
  mountPath: /etc/authsvc/keys
  readOnly: true
{{- end }}
{{- end }}

{{/* The Secrets as volumes. */}}
{{- define "authsvc.volumes" -}}
- name: secrets
  secret:
    secretName: {{ include "authsvc.secretName" . }}
    defaultMode: 0440
- name: credentials
  secret:
    secretName: {{ include "authsvc.credentialsSecretName" . }}
    defaultMode: 0440
{{- if .Values.keys.enabled }}
- name: keys
  secret:
    secretName: {{ .Values.keys.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}
