/* SPDX-License-Identifier: MIT */
/*
 * fuzz_protos.h - forced (-include) into every file of a fuzzer build: the
 * prototypes of libFuzzer's entry points and of the CLI's main renamed
 * cli_main, so that the project's -Wmissing-prototypes holds there too.
 */
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int cli_main(int argc, char **argv);
