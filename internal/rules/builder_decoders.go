package rules

import (
	"strings"

	"github.com/skywatch-dev/skywatch/internal/event"
)

func (b *Builder) decoderID(name string) int {
	if id, ok := b.decIDs[name]; ok {
		return id
	}
	id := len(b.decIDs) + 1
	b.decIDs[name] = id
	b.rs.NumDecoderIDs = len(b.decIDs)
	return id
}

// DecoderID returns the id of a loaded top-level (or own-named) decoder.
func (b *Builder) DecoderID(name string) (int, bool) {
	id, ok := b.decIDs[name]
	return id, ok
}

// AddDecoder compiles one decoder and places it in the decoder tree.
func (b *Builder) AddDecoder(s DecoderSpec) {
	nerr := len(b.errs)
	d := &Decoder{Name: s.Name, File: s.File, Line: s.Line, Type: s.Type, UseOwnName: s.UseOwnName, Accumulate: s.Accumulate}
	if s.Name == "" {
		b.fail(s.File, s.Line, "decoder without a name")
		return
	}
	if s.Prematch.Set {
		d.Prematch, _ = b.compileCapture(s.File, s.Line, "prematch", s.Prematch)
		var ok bool
		if d.PrematchOffset, ok = parseOffset(s.PrematchOffset, OffsetAfterParent); !ok {
			b.fail(s.File, s.Line, "<prematch>: invalid offset %q", s.PrematchOffset)
		}
	}
	if s.Regex.Set {
		d.Regex, _ = b.compileCapture(s.File, s.Line, "regex", s.Regex)
		var ok bool
		if d.RegexOffset, ok = parseOffset(s.RegexOffset, OffsetAfterParent, OffsetAfterPrematch, OffsetAfterRegex); !ok {
			b.fail(s.File, s.Line, "<regex>: invalid offset %q", s.RegexOffset)
		}
	}
	if s.Regex.Set != s.HasOrder && s.Plugin == "" {
		b.fail(s.File, s.Line, "decoder %q: <regex> and <order> must be used together", s.Name)
	}
	if s.HasOrder {
		for _, name := range strings.Split(s.Order, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			t := OrderTarget{Static: orderStatic(name), Slot: -1, Name: name}
			d.Order = append(d.Order, t)
		}
	}
	b.setPlugin(d, s)
	b.setJSONOptions(d, s)
	if s.FTS != "" {
		for _, f := range strings.Split(s.FTS, ",") {
			if f = strings.TrimSpace(f); f != "" {
				d.FTS = append(d.FTS, f)
				b.rs.Fields.Intern(f) // so the field is kept for the FTS key
			}
		}
		d.FTSComment = s.FTSComment
	}
	if len(b.errs) > nerr {
		return
	}
	if s.Parent == "" {
		b.addTopDecoder(d, s)
		return
	}
	b.addChildDecoder(d, s)
}

func (b *Builder) setPlugin(d *Decoder, s DecoderSpec) {
	if s.Plugin == "" {
		return
	}
	d.PluginName = s.Plugin
	if s.Plugin == "JSON_Decoder" {
		d.Plugin = PluginJSON
	} else {
		d.Plugin = PluginOther
		if !b.unhandled["plugin:"+s.Plugin] {
			b.unhandled["plugin:"+s.Plugin] = true
			b.warn(s.File, s.Line, "decoder plugin %s is not supported yet: events it would decode get no fields", s.Plugin)
		}
	}
	var ok bool
	if d.PluginOffset, ok = parseOffset(s.PluginOffset, OffsetAfterParent, OffsetAfterPrematch); !ok {
		b.fail(s.File, s.Line, "<plugin_decoder>: invalid offset %q", s.PluginOffset)
	}
}

func (b *Builder) setJSONOptions(d *Decoder, s DecoderSpec) {
	d.JSON.Prefix = s.JSONPrefix
	switch strings.ToLower(s.JSONNullField) {
	case "", "string":
	case "discard":
		d.JSON.Nulls = event.NullDiscard
	case "empty":
		b.warn(s.File, s.Line, "json_null_field 'empty' is deprecated; using 'string'")
	default:
		b.fail(s.File, s.Line, "invalid json_null_field %q", s.JSONNullField)
	}
	switch strings.ToLower(s.JSONArrayStruct) {
	case "", "array":
	case "csv":
		d.JSON.Arrays = event.ArrayAsCSV
	default:
		b.fail(s.File, s.Line, "invalid json_array_structure %q", s.JSONArrayStruct)
	}
}

func (b *Builder) addTopDecoder(d *Decoder, s DecoderSpec) {
	d.ID = b.decoderID(s.Name)
	if s.ProgramName.Set {
		d.ProgramName, _ = b.compilePattern(s.File, s.Line, "program_name", s.ProgramName, "osmatch")
	}
	if d.PrematchOffset == OffsetAfterParent {
		b.fail(s.File, s.Line, "decoder %q: offset after_parent needs a parent", s.Name)
		return
	}
	if d.RegexOffset == OffsetAfterPrematch {
		d.RegexOffset = OffsetAfterParent
	}
	if d.PluginOffset == OffsetAfterPrematch {
		d.PluginOffset = OffsetAfterParent
	}
	b.decTop[s.Name] = append(b.decTop[s.Name], d)
	if d.ProgramName != nil {
		b.rs.DecodersPname = append(b.rs.DecodersPname, d)
	} else {
		b.rs.DecodersNoPname = append(b.rs.DecodersNoPname, d)
	}
}

func (b *Builder) addChildDecoder(d *Decoder, s DecoderSpec) {
	parents := b.decTop[s.Parent]
	if len(parents) == 0 {
		b.fail(s.File, s.Line, "decoder %q: parent %q is not loaded", s.Name, s.Parent)
		return
	}
	for i, p := range parents {
		c := d
		if i > 0 {
			cp := *d
			c = &cp
		}
		c.Parent = p
		if s.UseOwnName {
			c.ID = b.decoderID(s.Name)
		} else {
			c.ID = p.ID
			c.Name = p.Name
		}
		c.chain = s.Name
		p.Children = append(p.Children, c)
	}
}
