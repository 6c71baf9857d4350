export namespace apitype {
	
	export class LogsSubscribeParams {
	    minLevel?: string;
	    process?: string;
	    system?: string;
	    backlog?: number;
	
	    static createFrom(source: any = {}) {
	        return new LogsSubscribeParams(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.minLevel = source["minLevel"];
	        this.process = source["process"];
	        this.system = source["system"];
	        this.backlog = source["backlog"];
	    }
	}

}

export namespace bridge {
	
	export class Session {
	    username: string;
	    role: string;
	    // Go type: time
	    expiresAt: any;
	
	    static createFrom(source: any = {}) {
	        return new Session(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.username = source["username"];
	        this.role = source["role"];
	        this.expiresAt = this.convertValues(source["expiresAt"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ConnStatus {
	    profile: string;
	    url: string;
	    fingerprint: string;
	    state: string;
	    error: string;
	    session?: Session;
	    agent: string;
	
	    static createFrom(source: any = {}) {
	        return new ConnStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.profile = source["profile"];
	        this.url = source["url"];
	        this.fingerprint = source["fingerprint"];
	        this.state = source["state"];
	        this.error = source["error"];
	        this.session = this.convertValues(source["session"], Session);
	        this.agent = source["agent"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Info {
	    name: string;
	    version: string;
	
	    static createFrom(source: any = {}) {
	        return new Info(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.version = source["version"];
	    }
	}
	export class ProbeResult {
	    url: string;
	    fingerprint: string;
	
	    static createFrom(source: any = {}) {
	        return new ProbeResult(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.url = source["url"];
	        this.fingerprint = source["fingerprint"];
	    }
	}
	export class SavedFile {
	    path: string;
	    size: number;
	    sha256: string;
	    cancelled: boolean;
	
	    static createFrom(source: any = {}) {
	        return new SavedFile(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.path = source["path"];
	        this.size = source["size"];
	        this.sha256 = source["sha256"];
	        this.cancelled = source["cancelled"];
	    }
	}

}

export namespace profile {
	
	export class Profile {
	    name: string;
	    url: string;
	    fingerprint: string;
	
	    static createFrom(source: any = {}) {
	        return new Profile(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.url = source["url"];
	        this.fingerprint = source["fingerprint"];
	    }
	}

}

