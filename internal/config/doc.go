// Package config loads skywatch's configuration file.
//
// The file is YAML and is decoded strictly: an unknown key is an error, and every
// error names the file and line it comes from. Decoding happens in three steps so
// that positions survive:
//
//  1. the text is parsed into a yaml.Node tree;
//  2. references in scalar values are expanded in place — ${VAR}, ${VAR:-default}
//     (the default is used when VAR is unset or empty), ${file:/path} (the file's
//     contents without trailing newlines) and $$ for a literal dollar; a lone $
//     followed by anything else is kept as written;
//  3. the tree is decoded into typed structs, and keys that no struct field takes
//     are reported.
//
// Sources and outputs are kept as raw nodes (SourceConfig, OutputConfig) because
// only the component that owns a type knows its keys. The component decodes its
// own Config struct with SourceConfig.Decode or OutputConfig.Decode, which applies
// the same strictness and maps the FieldErrors returned by its Validate method to
// the lines of the offending keys.
//
// Relative paths: Load resolves data_dir, the rules entries other than "builtin",
// relative ${file:...} references and every Path-typed field of a component
// against the directory that holds the configuration file, so a config behaves
// the same whatever the working directory. Parse, which has no file, leaves
// relative paths as written (relative to the working directory).
package config
