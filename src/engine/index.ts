// `import { Engine } from '.../engine'` keeps working now that the engine is a folder.
export * from './engine';
