// The enums shared with the runtime (SharedEnums.cs, linked) are in PamtGen.Generator.Model here, PamtGen in the runtime:
// the linked rule files name them without a using of their own.
global using PamtGen.Generator.Model;
