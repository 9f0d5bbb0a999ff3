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
