export declare const REGISTRY_FILE: string;
export declare function renderRegistry(): string;
export declare function writeRulesRegistry(): boolean;
