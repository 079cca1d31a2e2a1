{{/* Labels of every object; with a component for the controller's and speaker's. */}}
{{- define "ironlb.labels" -}}
app.kubernetes.io/name: ironlb
{{- with . }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "ironlb.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "ironlb.speakerEnabled" -}}
{{- if or .Values.layer2.enabled .Values.bgp.enabled }}true{{ end }}
{{- end }}

{{/* Arguments both components take. */}}
{{- define "ironlb.commonArgs" -}}
- --namespace={{ .root.Values.namespace }}
- --metrics-addr=:{{ .root.Values.metrics.port }}
- --health-addr=:{{ .healthPort }}
- --log-level={{ .root.Values.logLevel }}
{{- with .root.Values.loadBalancerClass }}
- --lb-class={{ . }}
{{- end }}
{{- end }}

{{- define "ironlb.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: health
  initialDelaySeconds: 10
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: health
  periodSeconds: 5
  failureThreshold: 3
{{- end }}
