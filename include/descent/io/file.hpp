// Writing result files so that a reader never sees half of one, and
// checking, before any work starts, the paths a run reads and writes.
#pragma once

#include <string>
#include <string_view>

namespace descent::io {

// What `path` names when it is not a regular file: "a directory", "a
// character device", "a block device", "a FIFO (named pipe)", "a socket";
// "" for a regular file (or a link to one) and for a path that does not
// exist.
std::string special_file_kind(const std::string& path);

// Refuses an input that is not a regular file with descent::parse_error
// ("PATH:0: cannot read it: it is a character device, not a regular
// file"): reading a device, a FIFO or a socket may never end or block for
// ever. A missing file is left to the reader's own message.
void require_regular_input(const std::string& path);

// Checks that a run will be able to write `path` before any work starts:
// its directory exists and may be written, and `path` is not a directory
// or a special file. Throws descent::invalid_argument naming `flag` and the
// path ("--save out/m.safetensors: the directory 'out' does not exist").
void require_writable_output(const std::string& path, std::string_view flag);

// Whether two paths name one file: the same inode when both exist (hard
// links and symbolic links included), else the same canonical path.
bool same_file(const std::string& a, const std::string& b);

// Writes `content` to a temporary file in the directory of `path`, flushes it
// to disk (fsync) and renames it over `path`, so `path` holds either its old
// content or all of the new. A new file gets mode 0644; an existing one keeps
// its mode. Throws std::runtime_error naming the path, the step that failed
// and the OS error (strerror) on failure, leaving an existing file intact
// and removing the temporary.
void write_file_atomically(const std::string& path, std::string_view content);

// Removes the temporaries that write_file_atomically(path, ...) calls left
// behind when their process was killed mid-write (".NAME.tmp-XXXXXX" beside
// `path`); returns how many. For a writer that owns `path`, before its first
// write: another process writing the same path at the same time would lose
// its temporary.
int remove_stale_temporaries(const std::string& path);

// A file written a piece at a time (a run's log) that replaces `path` only
// once published: until publish() the pieces go to a temporary beside it
// (".NAME.tmp-XXXXXX", as write_file_atomically's), so a run that fails
// before it has anything to log leaves the old file as it was. publish()
// renames the temporary over `path`; later pieces are appended to it
// directly, unbuffered, so a killed run keeps what it wrote. A failing
// write throws std::runtime_error naming the path and the OS's reason
// (ENOSPC, EFBIG); the destructor removes an unpublished temporary.
class StreamedFile {
 public:
  explicit StreamedFile(std::string path);
  ~StreamedFile();
  StreamedFile(const StreamedFile&) = delete;
  StreamedFile& operator=(const StreamedFile&) = delete;

  void write(std::string_view text);
  void publish();

 private:
  std::string path_, temporary_;
  int fd_ = -1;
  bool published_ = false;
};

}  // namespace descent::io
