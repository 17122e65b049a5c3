// SPDX-License-Identifier: MIT
module atomicwrite/bench/renameio

go 1.19

require github.com/google/renameio/v2 v2.0.0

replace github.com/google/renameio/v2 => /usr/share/gocode/src/github.com/google/renameio
