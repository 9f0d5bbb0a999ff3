package jsonstream

// Format reports how the reader is splitting the stream, once Next has returned a
// record: RecordsArray for a records document, Lines or Concatenated for a sequence
// of values. Before the first record (and after the end) it returns the configured
// format.
func (r *Reader) Format() Format {
	switch r.state {
	case stObjOpen, stObjKey, stObjNext, stArrOpen, stArrElem, stArrNext, stDocEnd:
		return RecordsArray
	case stSeq:
		if r.lineMode {
			return Lines
		}
		return Concatenated
	}
	return r.fmt
}

// SetValidate turns the per-record syntax check on (the default) or off. Turn it off
// when the consumer parses every record and reports its errors itself: the records
// are still split on the JSON structure, and a malformed one is handed over for the
// consumer to refuse instead of being reported here.
func (r *Reader) SetValidate(on bool) { r.noValidate = !on }
