// SPDX-License-Identifier: MIT
// Command renameio is the benchmark driver for Go's renameio v2 (Debian's
// golang-github-google-renameio-dev): WriteFile for small files,
// PendingFile streaming for a large one.  renameio always fsyncs the file
// and never the directory; it has no non-durable mode.  Same contract as
// bench/drivers/driver.h.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/google/renameio/v2"
)

const chunk = 1 << 20

func die(err error) {
	fmt.Fprintln(os.Stderr, "driver:", err)
	os.Exit(1)
}

func contents(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%23)
	}
	return b
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: renameio small|large DIR N SIZE")
		os.Exit(2)
	}
	mode, dir := os.Args[1], os.Args[2]
	n, _ := strconv.Atoi(os.Args[3])
	size, _ := strconv.Atoi(os.Args[4])
	if mode == "small-nosync" {
		die(fmt.Errorf("renameio has no non-durable mode"))
	}
	if mode == "large" {
		buf := contents(chunk)
		path := dir + "/big"
		start := time.Now()
		t, err := renameio.NewPendingFile(path, renameio.WithPermissions(0644))
		if err != nil {
			die(err)
		}
		for done := 0; done < size; {
			want := size - done
			if want > chunk {
				want = chunk
			}
			if _, err := t.Write(buf[:want]); err != nil {
				die(err)
			}
			done += want
		}
		if err := t.CloseAtomicallyReplace(); err != nil {
			die(err)
		}
		fmt.Println(time.Since(start).Microseconds())
		return
	}
	buf := contents(size)
	start := time.Now()
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("%s/f%05d", dir, i)
		if err := renameio.WriteFile(path, buf, 0644); err != nil {
			die(err)
		}
	}
	fmt.Println(time.Since(start).Microseconds())
}
