// Command fakes3 serves an in-memory S3 (gofakes3) on a loopback address, loaded
// with the files of a local folder, for benchmarks that need the S3 server in a
// process of its own (so the reader's memory is measured alone). Not shipped.
//
//	fakes3 -addr 127.0.0.1:9000 -bucket trail -load /tmp/ct200k
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address (loopback)")
	bucket := flag.String("bucket", "bench", "bucket to create")
	load := flag.String("load", "", "folder whose files become objects (key = relative path)")
	flag.Parse()
	if !strings.HasPrefix(*addr, "127.0.0.1:") && !strings.HasPrefix(*addr, "localhost:") {
		log.Fatal("fakes3: listen on loopback only")
	}
	backend := s3mem.New()
	if err := backend.CreateBucket(*bucket); err != nil {
		log.Fatal(err)
	}
	n := 0
	if *load != "" {
		err := filepath.WalkDir(*load, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(*load, p)
			_, err = backend.PutObject(*bucket, filepath.ToSlash(rel), map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
			n++
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("fakes3: %d objects in bucket %s on http://%s\n", n, *bucket, *addr)
	log.Fatal(http.ListenAndServe(*addr, gofakes3.New(backend).Server()))
}
