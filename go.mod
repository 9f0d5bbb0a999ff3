module github.com/skywatch-dev/skywatch

go 1.26.8

require (
	github.com/dlclark/regexp2/v2 v2.13.0 // indirect
	github.com/klauspost/compress v1.18.1 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
