import { it } from 'vitest';
import { Rng } from '../src/data/rng';
import { randomArray, runKernel } from './helpers/gpu';
import { matmulRef } from './helpers/reference';
const U = 2 ** -24;
it('probe', async () => {
  for (const [m, n, k] of [[1000, 128, 784], [128, 128, 784], [127, 129, 65]]) {
    const rng = new Rng(5);
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    const [c] = await runKernel('matmul', { WG_X: 8, WG_Y: 8 }, [{ data: a }, { data: b }, { data: new Float32Array(4) }, { output: m * n }], { M: m, N: n, K: k, alpha: 0 }, [Math.ceil(n / 32), Math.ceil(m / 32), 1]);
    const ref = matmulRef(a, b, m, n, k);
    // CPU f32 sequential sum emulation
    let s2 = 0, e2 = 0, max = 0, emax = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc = Math.fround(acc + Math.fround(a[i * k + p] * b[p * n + j]));
      const d = c[i * n + j] - ref[i * n + j];
      const e = acc - ref[i * n + j];
      s2 += d * d; e2 += e * e; max = Math.max(max, Math.abs(d)); emax = Math.max(emax, Math.abs(e));
    }
    const N = m * n;
    console.log(`${m}x${n}x${k}: gpu sd ${(Math.sqrt(s2 / N) / U / k).toFixed(3)}·uK max ${(max / U / k).toFixed(3)}·uK; f32 sequential sd ${(Math.sqrt(e2 / N) / U / k).toFixed(3)}·uK max ${(emax / U / k).toFixed(3)}·uK; model sd ${(1 / Math.sqrt(54)).toFixed(3)}`);
  }
});
