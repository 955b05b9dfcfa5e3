// Package record writes a Yellowstone stream into an archive.
//
// A Recorder connects a source (internal/source) to an archive Writer: every update is appended as
// received, committed in durable batches that move the archive's checkpoint, and gaps reported by the
// source become gap records. On an existing archive the recorder resumes: ResumeSlot tells the source
// to subscribe with from_slot at the archive's highest durable slot, and Seen answers the source's
// duplicate checks from the updates already stored for the last slots, so a recording killed at any
// moment (even with SIGKILL) continues with no duplicate and no missing sequence number.
//
// Import reads a length-prefixed capture ([u32 big-endian length][SubscribeUpdate]…) into an archive;
// a truncated capture imports its complete prefix and reports the offset where it stopped.
//
// Progress reports messages/s, the current slot, bytes and lag: a live line on a terminal, or a log
// line every 10 s otherwise.
package record
