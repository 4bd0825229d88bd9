// Every file of src/generated/, from the bundle and the managed-object model.
import { joinModels, readManagedModel } from './managed.ts';
import { readBundle } from './schema.ts';
import { emitMetadata, emitMethods, emitTypes } from './emit.ts';
import { emitManaged, emitModelMetadata, emitPaths } from './emit-managed.ts';

export function generateAll(wsdlDir: string, modelPath: string): { files: Record<string, string>; summary: string } {
  const schema = readBundle(wsdlDir);
  const joined = joinModels(schema, readManagedModel(modelPath));
  const files = {
    'types.ts': emitTypes(schema, joined.referenceFields),
    'methods.ts': emitMethods(schema, joined),
    'metadata.ts': emitMetadata(schema),
    'managed.ts': emitManaged(schema, joined),
    'paths.ts': emitPaths(schema, joined),
    'model.ts': emitModelMetadata(joined),
  };
  const { skipped } = joined;
  const summary = `${schema.types.size} complex types, ${schema.enums.size} enums, ${schema.operations.length} operations, ${joined.types.size} managed types; ` +
    `not generated (newer than the bundle): ${skipped.methods.length} methods, ${skipped.properties.length} properties, ${skipped.referenceTypes.length} data types with typed references`;
  return { files, summary };
}
