{{ define "service" }}
name: {{ .Name }}
{{ end }}
