// Package ruleset embeds skywatch's default ruleset ("--rules builtin"): decoders,
// rules and CDB lists in the Wazuh XML language, laid out like Wazuh's ruleset folder.
package ruleset

import (
	"embed"
	"io/fs"
)

//go:embed decoders rules lists tests
var files embed.FS

// FS returns the embedded ruleset, with rules/, decoders/, lists/ and its tests/ at
// its root.
func FS() fs.FS { return files }
