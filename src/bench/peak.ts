// Float32 peak throughput of known devices, keyed by a pattern of the adapter's name, so the bench
// can say what fraction of the hardware a step used. Vendor datasheet figures (dense FP32, no
// tensor cores, boost clock); a device not in the table is reported as unknown, never guessed.

export interface Peak {
  /** the device as the table names it */
  readonly device: string;
  readonly fp32Tflops: number;
}

const TABLE: readonly (readonly [RegExp, Peak])[] = [
  [/H200/i, { device: 'NVIDIA H200 (SXM)', fp32Tflops: 67 }],
  [/H100.*PCIe/i, { device: 'NVIDIA H100 PCIe', fp32Tflops: 51 }],
  [/H100/i, { device: 'NVIDIA H100 (SXM)', fp32Tflops: 67 }],
  [/A100/i, { device: 'NVIDIA A100', fp32Tflops: 19.5 }],
  [/L40S/i, { device: 'NVIDIA L40S', fp32Tflops: 91.6 }],
  [/RTX[- ]?4090/i, { device: 'NVIDIA GeForce RTX 4090', fp32Tflops: 82.6 }],
  [/RTX[- ]?3090/i, { device: 'NVIDIA GeForce RTX 3090', fp32Tflops: 35.6 }],
  [/A10G/i, { device: 'NVIDIA A10G', fp32Tflops: 31.2 }],
  [/(^|[^a-z0-9])T4([^a-z0-9]|$)/i, { device: 'NVIDIA T4', fp32Tflops: 8.1 }],
  [/MI300X/i, { device: 'AMD Instinct MI300X', fp32Tflops: 163.4 }],
  [/Apple M2 Max/i, { device: 'Apple M2 Max (38-core GPU)', fp32Tflops: 13.6 }],
];

/** The float32 peak of the device a backend description names, or null when it is not in the table. */
export const peakOf = (description: string): Peak | null => {
  for (const [re, peak] of TABLE) if (re.test(description)) return peak;
  return null;
};
