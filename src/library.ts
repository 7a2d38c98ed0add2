// What hrm-ts offers as a library on every platform (re-exported by the Node entry src/index.ts and
// the browser entry src/browser.ts): the Backend contract and the float64 reference, the model, both
// accelerated engines, checkpoints and safetensors, the dataset format from bytes, solving one
// puzzle, the forward dynamics of `hrm analyze`, and the conformance checks. Nothing here touches files.

export type { Backend, KernelName, LossKind, AdamAtan2Hyper, AdamState, LinearGrads } from './core/backend.ts';
export { KERNEL_NAMES, ShapeError } from './core/backend.ts';
export type { Shape, Tensor, FloatArray } from './core/tensor.ts';
export { numel, tensor32, tensor64, wrap64 } from './core/tensor.ts';
export { Rng } from './core/rng.ts';
export { referenceBackend } from './reference/backend.ts';

export { IGNORE_LABEL, type Batch } from './core/batch.ts';
export type { Hrm, ActStepResult, StepMetrics, Carry, TrainingState, StepObserver } from './model/api.ts';
export { createHrm, type CreateHrmOptions } from './model/hrm.ts';
export { decodeConfig, parseConfigText, applyOverrides, deriveSizes, type HrmConfig } from './model/config.ts';

export { createBackend, conformanceTargets, BACKEND_NAMES, type BackendName, type BackendOptions, type ConformanceTarget } from './backends/registry.ts';
export { createSimdBackend, type SimdBackend, type SimdOptions } from './accelerated/simd/backend.ts';
export { createGpuBackend, type GpuBackend, type GpuBackendOptions } from './accelerated/gpu/backend.ts';

export { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsFile, type SafeDtype } from './io/safetensors.ts';
export { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './train/checkpoint.ts';
export { modelFromCheckpoint } from './train/model-bytes.ts';
export { solveOne, parseSudoku, renderSudoku, sudokuFromTokens, checkSudoku, parseMaze, renderMaze, type SegmentTrace, type SolveOutcome } from './train/solve.ts';

export * from './data/dataset.ts';
export { decodeNpy, encodeNpy } from './data/npy.ts';
export { shapeForSize, formatBoard, parseBoard, boardToTokens, tokensToBoard, type SudokuShape } from './data/sudoku/grid.ts';
export { mazeStringToTokens, mazeTokensToString, checkMazeLabel, MAZE_CHARSET, MAZE_VOCAB } from './data/maze/maze.ts';
export { generateMaze, defaultMinPathLength, type GeneratedMaze, type MazeOptions } from './data/maze/generate.ts';

export { collectDynamics, updateSchedule, rowResiduals, type Dynamics, type Update } from './analyze/dynamics.ts';

export { caseFor } from './verify/cases.ts';
export { verifyKernel, type KernelReport } from './verify/runner.ts';
export { verifyModel, type ModelReport } from './verify/model.ts';
export { toleranceFor } from './verify/tolerances.ts';
export { verifyTargets, selectTargets, CHECK_NAMES, type CheckName, type VerifyRequest, type VerifyRow, type VerifyOutcome } from './verify/suite.ts';
