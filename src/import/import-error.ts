/** The error an import stops on before reading anything (bad options); says what to fix. */
export class ImportError extends Error {}
