{{/* Names are per release (two colors side by side); the router's Service is per stack. */}}
{{- define "eventhall.fullname" -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{- define "eventhall.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* Labels of an object; `component` (web, worker, migrate) is optional. */}}
{{- define "eventhall.labels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{ include "eventhall.selector" . }}
{{- end -}}

{{/* Pod selector of one component of this release's color. */}}
{{- define "eventhall.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
eventhall.io/stack: {{ .root.Values.stack }}
eventhall.io/color: {{ .root.Values.color }}
{{- end -}}

{{/* The environment of every container: settings, then secrets (as variables or as files). */}}
{{- define "eventhall.env" -}}
{{- if not .Values.secrets.asFiles }}
envFrom:
  - secretRef:
      name: {{ .Values.secrets.existingSecret }}
{{- end }}
env:
  - name: APP_ENV
    value: production
{{- range $name, $value := .Values.config }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
{{- end }}
{{- if .Values.secrets.asFiles }}
{{- range .Values.secrets.files }}
  - name: {{ . }}_FILE
    value: /run/secrets/eventhall/{{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "eventhall.volumeMounts" -}}
volumeMounts:
  - {name: tmp, mountPath: /tmp}
  - {name: state, mountPath: /var/lib/eventhall}
{{- if .Values.secrets.asFiles }}
  - {name: secrets, mountPath: /run/secrets/eventhall, readOnly: true}
{{- end }}
{{- end -}}

{{- define "eventhall.volumes" -}}
volumes:
  - {name: tmp, emptyDir: {}}
  - {name: state, emptyDir: {}}
{{- if .Values.secrets.asFiles }}
  - name: secrets
    secret:
      secretName: {{ .Values.secrets.existingSecret }}
      defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "eventhall.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{ include "eventhall.volumes" . }}
{{- end -}}
