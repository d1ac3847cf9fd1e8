//! Through the real executable: drbook killed with SIGKILL while a restore runs, then
//! resumed; a restore queued behind another outliving its step's timeout.
