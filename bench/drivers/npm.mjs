// SPDX-License-Identifier: MIT
// Benchmark driver for the npm packages write-file-atomic and atomically,
// through their synchronous APIs (a sequential loop; the async ones add
// event-loop hops, not disk work).  Both fsync the file and never the
// directory; {fsync: false} is their non-durable mode.  Neither streams: a
// large file is one Buffer.  Same contract as bench/drivers/driver.h, with
// the package as the first argument:
//     node npm.mjs write-file-atomic|atomically MODE DIR N SIZE
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [pkg, mode, dir, nArg, sizeArg] = process.argv.slice(2);
const n = Number(nArg), size = Number(sizeArg);

let write;
if (pkg === 'write-file-atomic') {
	const wfa = require('write-file-atomic');
	write = (path, data, fsync) => wfa.sync(path, data, { fsync });
} else if (pkg === 'atomically') {
	const { writeFileSync } = await import('atomically');
	write = (path, data, fsync) => writeFileSync(path, data, { fsync });
} else {
	console.error('usage: npm.mjs write-file-atomic|atomically MODE DIR N SIZE');
	process.exit(2);
}

const pattern = Buffer.from(Array.from({ length: 23 }, (_, i) => 97 + i));
const buf = Buffer.alloc(size, pattern);
const fsync = mode !== 'small-nosync';
const start = process.hrtime.bigint();
if (mode === 'large') {
	write(dir + '/big', buf, true);
} else {
	for (let i = 0; i < n; i++)
		write(`${dir}/f${String(i).padStart(5, '0')}`, buf, fsync);
}
console.log(String((process.hrtime.bigint() - start) / 1000n));
