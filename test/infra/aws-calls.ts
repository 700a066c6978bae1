import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/** An AWS SDK command the code of a function can send. */
export interface CommandCall {
  /** SDK package: `client-s3`, `client-dynamodb`, `client-kms`, `client-sqs` or `lib-dynamodb`. */
  readonly sdk: string;
  /** The operation, without the `Command` suffix: `PutObject`, `Query`… */
  readonly operation: string;
  /** File that builds the command (repository-relative), or the library that sends it. */
  readonly file: string;
  /**
   * The nearest file on the call path that acts on one known resource (one of `owners`), whose
   * resource the command is sent to; undefined when no such file is on the path.
   */
  readonly owner: string | undefined;
  /**
   * The fields its input literal names (`IndexName`, `VersionId`…), or `unknown` when the input
   * is not a literal or spreads another object (then any field may be set).
   */
  readonly input: readonly string[] | 'unknown';
}

/** Libraries that call AWS themselves: package → the file (under it) that sends the commands. */
export interface CallingLibrary {
  readonly packageName: string;
  /** The library file whose `new …Command(` calls are what it sends (ES build). */
  readonly sender: string;
  /** The owner the library's calls are attributed to. */
  readonly owner: string;
}

const COMMAND_DECLARATION =
  /node_modules\/@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)\/dist-types\/commands\/(\w+)Command\.d\.ts$/;

/** The TypeScript program of the repository (its tsconfig), built once per test file. */
export function projectProgram(entries: readonly string[]): ts.Program {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  return ts.createProgram({
    rootNames: entries.map((e) => path.join(ROOT, e)),
    options: { ...parsed.options, noEmit: true },
  });
}

const isProjectFile = (sf: ts.SourceFile) =>
  !sf.isDeclarationFile && !sf.fileName.includes(`${path.sep}node_modules${path.sep}`);

const relative = (fileName: string) => path.relative(ROOT, fileName).split(path.sep).join('/');

function inputFields(argument: ts.Expression | undefined): CommandCall['input'] {
  if (!argument) return [];
  if (!ts.isObjectLiteralExpression(argument)) return 'unknown';
  const names: string[] = [];
  for (const p of argument.properties) {
    if (ts.isSpreadAssignment(p) || !p.name) return 'unknown';
    names.push(p.name.getText());
  }
  return names.sort();
}

/**
 * Every AWS command the handler of `entry` can send: a walk of the code reachable from the
 * module (its top-level code, then every function, method, constructor and accessor referenced
 * from reached code, resolved by the type checker), collecting each `new <Name>Command(…)` of
 * the AWS SDK. Reaching is by reference, so a callback passed to a library counts as called; a
 * method reached through an interface counts every project class method of that name. Calls
 * made by `libraries` are added when the reached code references the library.
 */
export function reachableCommands(
  program: ts.Program,
  entry: string,
  owners: ReadonlySet<string>,
  libraries: readonly CallingLibrary[] = [],
): CommandCall[] {
  const checker = program.getTypeChecker();
  const calls = new Map<string, CommandCall>();
  const seen = new Set<string>();
  const loaded = new Set<string>();
  const work: Array<{ node: ts.Node; owner: string | undefined }> = [];
  const usedLibraries = new Set<CallingLibrary>();

  const enqueue = (node: ts.Node | undefined, owner: string | undefined) => {
    if (!node) return;
    const key = `${node.getSourceFile().fileName}:${node.pos}:${node.end}:${owner ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    work.push({ node, owner });
  };
  const ownerIn = (sf: ts.SourceFile, inherited: string | undefined) =>
    owners.has(relative(sf.fileName)) ? relative(sf.fileName) : inherited;

  /** A module's top-level code runs when it is first imported. */
  const load = (sf: ts.SourceFile) => {
    if (loaded.has(sf.fileName)) return;
    loaded.add(sf.fileName);
    const owner = ownerIn(sf, undefined);
    for (const statement of sf.statements) {
      if (ts.isImportDeclaration(statement)) {
        if (statement.importClause?.isTypeOnly) continue;
        const target = checker.getSymbolAtLocation(statement.moduleSpecifier)?.valueDeclaration;
        if (target && ts.isSourceFile(target) && isProjectFile(target)) load(target);
      } else if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          // A function value runs only when referenced; anything else runs now.
          if (d.initializer && !isFunctionValue(d.initializer)) enqueue(d.initializer, owner);
        }
      } else if (ts.isClassDeclaration(statement)) {
        for (const member of statement.members) {
          if (ts.isClassStaticBlockDeclaration(member)) enqueue(member.body, owner);
          const isStatic = ts.canHaveModifiers(member)
            ? ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
            : false;
          if (isStatic && ts.isPropertyDeclaration(member)) enqueue(member.initializer, owner);
        }
      } else if (
        !ts.isFunctionDeclaration(statement) &&
        !ts.isInterfaceDeclaration(statement) &&
        !ts.isTypeAliasDeclaration(statement)
      ) {
        enqueue(statement, owner);
      }
    }
  };

  const reachClass = (decl: ts.ClassLikeDeclaration, owner: string | undefined) => {
    for (const member of decl.members) {
      if (ts.isConstructorDeclaration(member)) enqueue(member.body, owner);
      if (ts.isPropertyDeclaration(member)) enqueue(member.initializer, owner);
    }
    for (const clause of decl.heritageClauses ?? []) {
      if (clause.token === ts.SyntaxKind.ExtendsKeyword) enqueue(clause, owner);
    }
  };

  /** Every project class method or property named `name` (a call through an interface). */
  const implementations = new Map<string, ts.Node[]>();
  const implementationsOf = (name: string): ts.Node[] => {
    const known = implementations.get(name);
    if (known) return known;
    const found: ts.Node[] = [];
    implementations.set(name, found);
    for (const sf of program.getSourceFiles()) {
      if (!isProjectFile(sf)) continue;
      const visit = (node: ts.Node) => {
        if (
          (ts.isMethodDeclaration(node) || ts.isPropertyDeclaration(node)) &&
          node.name.getText() === name &&
          ts.isClassLike(node.parent)
        ) {
          found.push(node);
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    return found;
  };

  const reachDeclaration = (decl: ts.Node, owner: string | undefined) => {
    const sf = decl.getSourceFile();
    if (!isProjectFile(sf)) {
      for (const library of libraries) {
        if (sf.fileName.includes(`/node_modules/${library.packageName}/`))
          usedLibraries.add(library);
      }
      return;
    }
    load(sf);
    const next = ownerIn(sf, owner);
    if (ts.isClassLike(decl)) reachClass(decl, next);
    else if (ts.isFunctionLike(decl) && 'body' in decl) enqueue(decl.body as ts.Node, next);
    else if (
      (ts.isVariableDeclaration(decl) ||
        ts.isPropertyDeclaration(decl) ||
        ts.isPropertyAssignment(decl)) &&
      decl.initializer &&
      isFunctionValue(decl.initializer)
    ) {
      enqueue(decl.initializer, next);
    } else if (
      ts.isMethodSignature(decl) ||
      (ts.isPropertySignature(decl) && decl.type && ts.isFunctionTypeNode(decl.type))
    ) {
      for (const impl of implementationsOf(decl.name.getText())) reachDeclaration(impl, next);
    }
  };

  const reference = (node: ts.Identifier | ts.PrivateIdentifier, owner: string | undefined) => {
    let symbol = checker.getSymbolAtLocation(node);
    if (!symbol) return;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const decl of symbol.declarations ?? []) reachDeclaration(decl, owner);
  };

  const record = (expression: ts.NewExpression, owner: string | undefined) => {
    let symbol = checker.getSymbolAtLocation(expression.expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const declaration = symbol?.declarations?.[0];
    const match = declaration?.getSourceFile().fileName.match(COMMAND_DECLARATION);
    if (!match) return;
    const call: CommandCall = {
      sdk: match[1],
      operation: match[2],
      file: relative(expression.getSourceFile().fileName),
      owner,
      input: inputFields(expression.arguments?.[0]),
    };
    calls.set(JSON.stringify(call), call);
  };

  const visit = (node: ts.Node, owner: string | undefined): void => {
    if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return;
    if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isNewExpression(node)) record(node, owner);
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) reference(node, owner);
    ts.forEachChild(node, (child) => visit(child, owner));
  };

  const entryFile = program.getSourceFile(path.join(ROOT, entry));
  if (!entryFile) throw new Error(`${entry} is not in the program`);
  // The entry's exports are called by Lambda: its whole top level is reached.
  loaded.add(entryFile.fileName);
  for (const statement of entryFile.statements) enqueue(statement, ownerIn(entryFile, undefined));
  while (work.length > 0) {
    const { node, owner } = work.pop()!;
    visit(node, owner);
  }
  for (const library of usedLibraries) {
    for (const operation of commandsSentBy(library)) {
      const call: CommandCall = {
        sdk: operation.sdk,
        operation: operation.operation,
        file: library.packageName,
        owner: library.owner,
        input: 'unknown',
      };
      calls.set(JSON.stringify(call), call);
    }
  }
  return [...calls.values()];
}

function isFunctionValue(node: ts.Expression): boolean {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

/** The commands a library file builds (`new XCommand(`), with the SDK package it imports them from. */
function commandsSentBy(library: CallingLibrary): Array<{ sdk: string; operation: string }> {
  const file = path.join(ROOT, 'node_modules', library.packageName, library.sender);
  const source = fs.readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of source.matchAll(/import\s*{([^}]*)}\s*from\s*'@aws-sdk\/([a-z0-9-]+)'/g)) {
    for (const name of m[1].split(',').map((n) => n.trim())) imports.set(name, m[2]);
  }
  const sent = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]);
  if (sent.length === 0) throw new Error(`${file} sends no command: is it still the sender?`);
  return [...new Set(sent)].map((operation) => {
    const sdk = imports.get(`${operation}Command`);
    if (!sdk)
      throw new Error(`${file}: ${operation}Command is not imported from an AWS SDK package`);
    return { sdk, operation };
  });
}
