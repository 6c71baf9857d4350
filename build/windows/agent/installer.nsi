; The Lockstep agent's Windows installer (NSIS 3). build/package.sh builds it
; with makensis when `make package` runs:
;   makensis -DVERSION=1.2.3 -DAGENT_EXE=path\to\lockstep-agent.exe -DOUTFILE=out.exe installer.nsi
;
; It installs lockstep-agent.exe and registers the Windows service through
; the agent itself (`lockstep-agent service install`), which sets what the
; SCM needs: delayed automatic start, recovery actions (restart after 5 s,
; 30 s, 60 s, also on error exits), the pre-shutdown timeout and the data
; directory's ACL (SYSTEM and Administrators only). One implementation for
; the installer and for administrators who register the service by hand.
;
; Upgrades stop a running agent, replace the binary and start it again; the
; service registration, the data directory, the master key and the store
; are left alone. The uninstaller removes the service and the program files
; and keeps the data directory (%ProgramData%\Lockstep).

Unicode true
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "define VERSION (makensis -DVERSION=1.2.3)"
!endif
!ifndef AGENT_EXE
  !error "define AGENT_EXE, the path of the Windows agent binary"
!endif
!ifndef OUTFILE
  !define OUTFILE "lockstep-agent-${VERSION}-setup.exe"
!endif
; VIProductVersion needs four numbers; VERSION may carry a suffix.
!ifndef VERSION_QUAD
  !define VERSION_QUAD "0.0.0.0"
!endif

!define PRODUCT "Lockstep Agent"
!define EXE "lockstep-agent.exe"
!define SERVICE "lockstep-agent"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LockstepAgent"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"
!include "StrFunc.nsh"
${StrStr}
${UnStrStr}

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Lockstep\Agent"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION_QUAD}"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "CompanyName" "Lockstep"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "Lockstep"

!define MUI_ICON "..\icon.ico"
!define MUI_UNICON "..\icon.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_NOAUTOCLOSE
!define MUI_FINISHPAGE_TITLE "${PRODUCT} is installed"
!define MUI_FINISHPAGE_TEXT "The service $\"${SERVICE}$\" is registered with recovery actions.$\r$\n$\r$\nOn a new installation, initialise the agent from an elevated prompt, then start it:$\r$\n  cd $\"$INSTDIR$\"$\r$\n  ${EXE} init$\r$\n  ${EXE} service start$\r$\n$\r$\ninit prints the first administrator's password once. The data directory is %ProgramData%\Lockstep."
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Var WasState ; the service's state before this installer ran

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${PRODUCT} needs 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

; ServiceState leaves "running", "stopped" or "not installed" in $WasState,
; as the installed agent reports it ("lockstep-agent service: running").
Function ServiceState
  StrCpy $WasState "not installed"
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    nsExec::ExecToStack '"$INSTDIR\${EXE}" service status'
    Pop $0 ; exit code
    Pop $1 ; output
    ${StrStr} $2 $1 "service: running"
    ${If} $2 != ""
      StrCpy $WasState "running"
    ${Else}
      ${StrStr} $2 $1 "service: stopped"
      ${If} $2 != ""
        StrCpy $WasState "stopped"
      ${EndIf}
    ${EndIf}
  ${EndIf}
FunctionEnd

Section "Install"
  SetShellVarContext all
  Call ServiceState
  DetailPrint "Service before installation: $WasState"
  ${If} $WasState == "running"
    ; The running binary is locked: stop the agent before replacing it.
    nsExec::ExecToLog '"$INSTDIR\${EXE}" service stop'
    Pop $0
    ${If} $0 != 0
      Abort "Could not stop the running agent (exit code $0); nothing was changed."
    ${EndIf}
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "/oname=${EXE}" "${AGENT_EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ${If} $WasState == "not installed"
    nsExec::ExecToLog '"$INSTDIR\${EXE}" service install'
    Pop $0
    ${If} $0 != 0
      Abort "Registering the service failed (exit code $0); see the details above."
    ${EndIf}
  ${EndIf}
  ${If} $WasState == "running"
    nsExec::ExecToLog '"$INSTDIR\${EXE}" service start'
    Pop $0
    ${If} $0 != 0
      DetailPrint "The agent did not start again (exit code $0): check the Event Log."
    ${EndIf}
  ${EndIf}

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Lockstep"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  ; uninstall stops the agent first; "not installed" is fine here.
  nsExec::ExecToStack '"$INSTDIR\${EXE}" service uninstall'
  Pop $0
  Pop $1
  ${UnStrStr} $2 $1 "not installed"
  ${If} $0 != 0
  ${AndIf} $2 == ""
    Abort "Removing the service failed (exit code $0): $1"
  ${EndIf}
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir "$PROGRAMFILES64\Lockstep"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DetailPrint "The data directory %ProgramData%\Lockstep (master key, store) was kept."
SectionEnd
