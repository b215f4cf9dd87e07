// The package's library entry point (`require('tracklane')`); the CLI lives in src/cli.
export * from './sdk';
