package awsevent

// partShift places the events after the first of a record (a GuardDuty finding with
// several port probes, a Security Hub envelope with several findings) in their own
// offset range, so each event of a record has its own alert id.
const partShift = 40

// EventOffset is the origin offset of part number part of record record: the record
// index itself for the first (usually only) event of a record.
func EventOffset(record int64, part int) int64 {
	return record | int64(part)<<partShift
}
